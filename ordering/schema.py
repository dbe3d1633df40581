"""OpenAPI pieces shared by every app's views: the contract's error body, per status, and the project's schema
class."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from core.idempotency import WRITES, IdempotentWrites
from ordering.serializers import MAX_DB_ID

ErrorSerializer = inline_serializer(
    "Error",
    {
        "code": serializers.CharField(help_text="snake_case, e.g. sold_out, table_not_found"),
        "detail": serializers.CharField(help_text="message for a person, Korean"),
        "errors": serializers.DictField(
            # A field's messages, or for a list of objects (order lines) index -> field -> messages.
            child=serializers.JSONField(),
            required=False,
            help_text='with code=invalid: field -> messages, e.g. {"items": {"0": {"quantity": ["..."]}}}',
        ),
        "food_ids": serializers.ListField(child=serializers.IntegerField(), required=False),
        "expected": serializers.IntegerField(required=False, help_text="with amount_mismatch: the server total"),
        "retry_after": serializers.IntegerField(required=False),
    },
)

_DESCRIPTIONS = {
    400: "invalid input (code `invalid` with `errors`, or a named code)",
    401: "not_authenticated",
    403: "permission_denied (not staff)",
    404: "unknown or malformed id",
    409: "conflict with the current state",
    413: "payload_too_large (over 64 KiB)",
    429: "rate limited",
    503: "a passing fault; retry",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The operation's error answers; every operation may also answer 503 (the database is away)."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code])
        for code in dict.fromkeys((*statuses, 503))
    }


# Path ids as the contract describes them; a malformed or unknown one is a 404, never a 500.
TABLE_ID = OpenApiParameter("table_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="the table's UUID")
ORDER_ID = OpenApiParameter("order_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
FOOD_ID = OpenApiParameter("food_id", {"type": "integer", "minimum": 1, "maximum": MAX_DB_ID}, OpenApiParameter.PATH)
EVENT_ID = OpenApiParameter(
    "event_id",
    {"type": "integer", "minimum": 1, "maximum": MAX_DB_ID},
    OpenApiParameter.PATH,
    description="a PaymentEvent id",
)
CALL_ID = OpenApiParameter(
    "call_id",
    {"type": "integer", "minimum": 1, "maximum": MAX_DB_ID},
    OpenApiParameter.PATH,
    description="a StaffCall id",
)
FORCE = OpenApiParameter(
    "force", bool, required=False, description="reset even while a paid ticket is not served (open_tickets)"
)


KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 200}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    description="A repeat with the same key and body gets the first answer again and changes nothing "
    "(`Idempotent-Replayed: true`); the same key with another body is 409 `idempotency_key_reused`. "
    "Kept 24 hours, per staff user.",
)
GUEST_ORDER_KEY = OpenApiParameter(
    "Idempotency-Key",
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    description="A random key per order. Sent again (its answer was lost), the order the key placed is the "
    "answer, as it is now (`Idempotent-Replayed: true`), and nothing else happens. The same key with "
    "another table, other lines, payer name or total is 409 `idempotency_key_reused`. An answer that placed "
    "nothing (a 4xx) is not kept: sent again, the order is tried again. An expired pre-order lets its key go.",
)
GUEST_CART_KEY = OpenApiParameter(
    "Idempotency-Key",
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    description="A random key per cart write. Sent again (its answer was lost) with the same body, the answer "
    "is the cart as it is now (`Idempotent-Replayed: true`) and nothing is applied again, even when other "
    "phones wrote since; with another body, 409 `idempotency_key_reused`. The cart keeps its last 50 keys.",
)
GUEST_CALL_KEY = OpenApiParameter(
    "Idempotency-Key",
    KEY_SCHEMA,
    OpenApiParameter.HEADER,
    description="A random key per call. Sent again (its answer was lost), the call the key made is the answer "
    "(`Idempotent-Replayed: true`), not a second call; with another table or message, 409 "
    "`idempotency_key_reused`.",
)


class ApiSchema(AutoSchema):
    """drf-spectacular's schema (settings DEFAULT_SCHEMA_CLASS), with `Idempotency-Key` and its answers on every
    staff write that honours it (core.idempotency.IdempotentWrites)."""

    def honours_idempotency_key(self) -> bool:
        return isinstance(self.view, IdempotentWrites) and self.method in WRITES

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        return [*parameters, IDEMPOTENCY_KEY] if self.honours_idempotency_key() else parameters

    def get_operation(self, *args, **kwargs):
        # After the operation is built: a view's @extend_schema(responses=...) replaces the response hooks.
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and self.honours_idempotency_key():
            responses = operation["responses"]
            for code, name in ((400, "invalid_idempotency_key"), (409, "idempotency_key_reused")):
                responses.setdefault(
                    str(code),
                    {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                        "description": f"{_DESCRIPTIONS[code]}; {name}",
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))
        return operation
