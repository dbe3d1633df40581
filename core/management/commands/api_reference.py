from django.core.management.base import BaseCommand
from drf_spectacular.generators import SchemaGenerator

METHODS = ("get", "post", "put", "patch", "delete")


def reference() -> str:
    """docs/api.md: every operation of the served OpenAPI schema in one page a clone can read offline."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    lines = [
        "# HTTP API reference",
        "",
        "Generated from the code's OpenAPI schema by `uv run python manage.py api_reference > docs/api.md`",
        "(a test keeps it current). The running app serves the same schema at `/api/schema/`, Swagger UI at",
        '`/api/docs/` and ReDoc at `/api/redoc/`. Error bodies are `{"code", "detail", ...}`.',
        "",
    ]
    for path, operations in schema["paths"].items():
        for method in METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            lines.append(f"## `{method.upper()} {path}`")
            lines.append("")
            if operation.get("description"):
                lines += [operation["description"].strip(), ""]
            auth = "public" if {} in operation.get("security", []) else "staff"
            lines.append(f"- operation: `{operation['operationId']}` ({auth})")
            params = [
                f"`{p['name']}` ({p['in']}{', required' if p.get('required') else ''})"
                for p in operation.get("parameters", [])
            ]
            if params:
                lines.append("- parameters: " + ", ".join(params))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                lines.append(f"- body: `{body.get('$ref', '').rsplit('/', 1)[-1] or body.get('type', 'object')}`")
            answers = ", ".join(f"{code}" for code in operation.get("responses", {}))
            lines += [f"- answers: {answers}", ""]
    return "\n".join(lines).rstrip() + "\n"


class Command(BaseCommand):
    help = "Print the HTTP API reference (docs/api.md) from the OpenAPI schema."

    def handle(self, *args, **options):
        self.stdout.write(reference(), ending="")
