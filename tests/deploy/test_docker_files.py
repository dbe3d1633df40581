"""The container files, checked without a Docker engine: shell syntax, YAML structure, Dockerfile stages."""

import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import threading

import pytest
import yaml

from tests.deploy.support import ROOT
from tests.servers import DAPHNE_OPTIONS

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
IMAGE_TEST = ROOT / "docker" / "image-test.sh"

# CONTRACT.md section 1, plus the operations variables docs/operations.md describes.
CONTRACT_VARIABLES = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CORS_ALLOWED_ORIGINS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "DB_HOST",
    "DB_PORT",
    "REDIS_URL",
    "DISCORD_WEBHOOK_URL",
    "DISCORD_CALL_WEBHOOK_URL",
    "PAYACTION_WEBHOOK_KEY",
    "PAYACTION_MALL_ID",
    "PAYACTION_API_KEY",
    "PAYACTION_API_URL",
    "BANK_NAME",
    "BANK_ACCOUNT_NO",
    "PRE_ORDER_TTL_MINUTES",
    "THROTTLE",
]
OPERATIONS_VARIABLES = ["LOG_FORMAT", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "CONN_MAX_AGE", "BACKGROUND_JOBS"]


# --- docker/entrypoint.sh ---------------------------------------------------------------------------


def test_entrypoint_is_valid_posix_shell():
    result = subprocess.run(["sh", "-n", str(ENTRYPOINT)], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt-get install shellcheck)")
def test_entrypoint_passes_shellcheck_as_posix_sh():
    result = subprocess.run(
        ["shellcheck", "--shell=sh", "--severity=style", str(ENTRYPOINT)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout


def test_entrypoint_is_executable_and_strict():
    text = ENTRYPOINT.read_text()

    assert ENTRYPOINT.stat().st_mode & 0o111
    assert text.startswith("#!/bin/sh\n")
    assert "\nset -eu\n" in text


def test_entrypoint_migrates_under_the_lock_seeds_on_request_then_execs_daphne():
    text = ENTRYPOINT.read_text()

    migrate = text.index("python manage.py migrate_locked")
    seed_data = text.index("python manage.py seed_data")
    seed_tables = text.index("python manage.py seed_tables")
    daphne = text.index('exec daphne -b 0.0.0.0 -p "$PORT" --proxy-headers')
    assert migrate < seed_data < seed_tables < daphne
    assert 'if [ "$SEED_ON_START" = "1" ]' in text
    assert text.rstrip().endswith("config.asgi:application")


def test_entrypoint_runs_a_given_command_instead():
    result = subprocess.run(["sh", str(ENTRYPOINT), "echo", "one-off"], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "one-off\n"


def _run_entrypoint(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """The entrypoint as the image runs it (no arguments), with `python` and `daphne` stubbed on PATH:
    the database answers at once, manage.py commands succeed, daphne prints the arguments it got."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "daphne").write_text('#!/bin/sh\necho "daphne $*"\n')
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    clean = {key: value for key, value in os.environ.items() if key not in {"PORT", "SEED_ON_START", "LOG_FORMAT"}}
    return subprocess.run(
        ["sh", str(ENTRYPOINT)],
        env={**clean, "PATH": f"{bin_dir}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_entrypoint_serves_on_port_8000_by_default(tmp_path):
    result = _run_entrypoint(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "daphne",
        "-b",
        "0.0.0.0",
        "-p",
        "8000",
        "--proxy-headers",
        "-v",
        "1",
        *DAPHNE_OPTIONS,  # the Makefile's, as make dev and make serve give them
        "config.asgi:application",
    ]
    assert "starting daphne on 0.0.0.0:8000" in result.stderr


def test_entrypoint_serves_on_the_port_given_in_port(tmp_path):
    result = _run_entrypoint(tmp_path, PORT="9123", LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "daphne",
        "-b",
        "0.0.0.0",
        "-p",
        "9123",
        "--proxy-headers",
        "-v",
        "0",
        *DAPHNE_OPTIONS,  # the Makefile's, as make dev and make serve give them
        "config.asgi:application",
    ]
    assert "starting daphne on 0.0.0.0:9123" in result.stderr


@pytest.mark.parametrize("port", ["http", "80a", "0", "65536", "123456789012345678901", "-1"])
def test_entrypoint_refuses_a_port_that_is_not_one(tmp_path, port):
    result = _run_entrypoint(tmp_path, PORT=port)

    assert result.returncode == 64
    assert f"PORT must be a number from 1 to 65535, not '{port}'" in result.stderr
    assert "daphne" not in result.stdout


# --- docker/healthcheck.py --------------------------------------------------------------------------


def _healthcheck_module():
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "docker" / "healthcheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [
        ("pub.example.com,www.example.com", "pub.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_healthcheck_sends_a_host_that_allowed_hosts_accepts(monkeypatch, allowed_hosts, host):
    monkeypatch.setenv("ALLOWED_HOSTS", allowed_hosts)

    assert _healthcheck_module().allowed_host() == host


def test_healthcheck_fails_when_nothing_answers(monkeypatch):
    monkeypatch.setenv("PORT", "9")  # discard port: connection refused

    assert _healthcheck_module().main() == 1


def test_healthcheck_asks_port_8000_unless_port_is_set(monkeypatch):
    module = _healthcheck_module()
    monkeypatch.delenv("PORT", raising=False)
    assert module.url() == "http://127.0.0.1:8000/healthz"

    monkeypatch.setenv("PORT", "9123")
    assert module.url() == "http://127.0.0.1:9123/healthz"


@pytest.mark.parametrize("port", ["http", "0", "70000", "8o8o"])
def test_healthcheck_is_unhealthy_with_a_port_that_is_not_one(monkeypatch, capsys, port):
    monkeypatch.setenv("PORT", port)

    assert _healthcheck_module().main() == 1
    assert "PORT must be a number from 1 to 65535" in capsys.readouterr().err


@pytest.fixture
def healthz_server():
    """A stand-in for daphne on a free port: answers /healthz, records what it was asked."""
    seen: list[tuple[str, str]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers["Host"]))
            body = b'{"status": "ok", "database": "ok", "channel_layer": "ok"}'
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_asks_the_server_on_port(monkeypatch, healthz_server):
    port, seen = healthz_server
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("ALLOWED_HOSTS", "pub.example.com")

    assert _healthcheck_module().main() == 0
    assert seen == [("/healthz", "pub.example.com")]


# --- Dockerfile -------------------------------------------------------------------------------------


def _stages() -> list[dict]:
    """Instructions of each FROM stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[dict] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            name = rest.split(" AS ")[-1].strip() if " AS " in rest else str(len(stages))
            stages.append({"from": rest.split()[0], "name": name, "lines": []})
        elif stages:
            stages[-1]["lines"].append((keyword, rest))
    return stages


def test_dockerfile_has_a_build_stage_and_a_runtime_stage_on_the_same_base():
    build, runtime = _stages()

    assert (build["name"], runtime["name"]) == ("build", "runtime")
    assert build["from"] == runtime["from"] == "${PYTHON_IMAGE}"
    # Declared before the first FROM, so `--build-arg PYTHON_IMAGE=...` (make image-test) names both stages.
    text = (ROOT / "Dockerfile").read_text()
    assert "\nARG PYTHON_IMAGE=python:3.11-slim-bookworm\n" in text
    assert text.index("ARG PYTHON_IMAGE=") < text.index("\nFROM ")


def test_build_stage_compiles_mysqlclient_and_installs_the_locked_dependencies():
    build, _ = _stages()
    runs = " ".join(rest for keyword, rest in build["lines"] if keyword == "RUN")

    for package in ("build-essential", "pkg-config", "default-libmysqlclient-dev"):
        assert package in runs
    assert 'pip install --no-cache-dir "uv==' in runs
    assert "uv sync --frozen --no-dev --extra mysql" in runs
    assert "collectstatic --noinput" in runs
    # The throwaway key is given to the collectstatic command only, never kept as ENV.
    assert "SECRET_KEY=" in next(rest for keyword, rest in build["lines"] if "collectstatic" in rest)
    assert not any(keyword == "ENV" and "SECRET_KEY" in rest for keyword, rest in build["lines"])


def test_runtime_stage_has_no_build_toolchain_runs_as_non_root_and_checks_health():
    _, runtime = _stages()
    instructions = dict(runtime["lines"])  # last of each keyword
    runtime_text = " ".join(rest for _, rest in runtime["lines"])

    for tool in ("build-essential", "gcc", "pkg-config", "-dev ", "default-libmysqlclient-dev", "curl", "uv sync"):
        assert tool not in runtime_text
    assert "libmariadb3" in runtime_text
    user = instructions["USER"].split(":")[0]
    assert user not in ("root", "0")
    assert "docker/healthcheck.py" in instructions["HEALTHCHECK"]
    assert instructions["ENTRYPOINT"] == '["/app/docker/entrypoint.sh"]'
    assert ("COPY", "--from=build /app /app") in runtime["lines"]
    assert not any(keyword == "ENV" and "SECRET_KEY" in rest for keyword, rest in runtime["lines"])


def _dockerignore() -> set[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")}


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = _dockerignore()

    assert {".env", ".env.*", ".venv", ".git", "db.sqlite3*", "test_db*.sqlite3*", "staticfiles"} <= ignored
    assert {"**/__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".coverage"} <= ignored


def test_dockerignore_keeps_tests_docs_and_benchmarks_out_of_the_image():
    ignored = _dockerignore()

    assert {"tests", "docs", "bench", ".ci", "docker/image-test.sh"} <= ignored
    # What the image needs to build and serve stays in.
    for needed in (
        "pyproject.toml",
        "uv.lock",
        "manage.py",
        "config",
        "static",
        "templates",
        "docker",
        "docker/entrypoint.sh",
        "docker/healthcheck.py",
    ):
        assert needed not in ignored
        assert (ROOT / needed).exists()


# --- docker/image-test.sh (make image-test, in CI) ---------------------------------------------------


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck not installed (apt-get install shellcheck)")
def test_image_test_script_passes_shellcheck():
    result = subprocess.run(
        ["shellcheck", "--severity=style", str(IMAGE_TEST)], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout


def test_image_test_builds_the_dockerfile_for_real_and_runs_it_in_ci():
    script = IMAGE_TEST.read_text()
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()

    assert IMAGE_TEST.stat().st_mode & 0o111
    assert "set -euo pipefail" in script
    # The docker format keeps HEALTHCHECK; the stand-in base goes in through PYTHON_IMAGE.
    assert "podman build --format docker --network host" in script
    assert '--build-arg "PYTHON_IMAGE=$BASE_IMAGE"' in script
    assert 'runtime = "runc"' in script
    assert "podman healthcheck run" in script
    assert '-e "PORT=$PORT"' in script
    assert "trap cleanup EXIT" in script
    assert re.search(r"^image-test:.*\n\tbash docker/image-test\.sh$", makefile, flags=re.MULTILINE)
    assert re.search(r"^make image-test$", ci, flags=re.MULTILINE)


# --- docker-compose.yml -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_mysql_redis_and_the_app_with_healthchecks(compose):
    services = compose["services"]

    assert {"mysql", "redis", "app"} <= set(services)
    assert services["mysql"]["image"] == "mysql:8.0"
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("mysql", "redis"):
        assert services[name]["healthcheck"]["test"]
        assert "profiles" not in services[name]
    assert "profiles" not in services["app"]


def test_compose_mysql_is_utf8mb4_with_a_named_volume(compose):
    mysql = compose["services"]["mysql"]

    assert "--character-set-server=utf8mb4" in mysql["command"]
    assert "--collation-server=utf8mb4_unicode_ci" in mysql["command"]
    volume = mysql["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_compose_app_waits_for_healthy_services_and_reads_env_file(compose):
    for name in ("app", "app2"):
        app = compose["services"][name]
        assert app["depends_on"] == {
            "mysql": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
        assert app["env_file"] == ".env"
        assert app["build"] == "."
        assert "mysql:3306" in app["environment"]["DATABASE_URL"]
        assert "redis:6379" in app["environment"]["REDIS_URL"]
        # The published port and nginx's upstreams say 8000: a PORT in .env (for `make dev`) must not move it.
        assert app["environment"]["PORT"] == "8000"


def test_compose_scale_profile_runs_two_apps_behind_nginx(compose):
    services = compose["services"]
    nginx = services["nginx"]

    assert services["app2"]["profiles"] == ["scale"]
    assert nginx["profiles"] == ["scale"]
    assert "ports" not in services["app2"]  # reached through nginx only
    assert services["app2"]["environment"]["SEED_ON_START"] == "0"
    assert {"app", "app2"} <= set(nginx["depends_on"])
    assert all(dep["condition"] == "service_healthy" for dep in nginx["depends_on"].values())
    assert "./docker/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]


def test_nginx_config_proxies_websockets_and_forwarded_headers():
    conf = (ROOT / "docker" / "nginx.conf").read_text()

    assert "server app:8000" in conf
    assert "server app2:8000" in conf
    assert "location /ws/" in conf
    assert "proxy_http_version 1.1;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert re.search(r"proxy_set_header X-Forwarded-Proto \$\w+;", conf)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_nginx_config_is_accepted_by_nginx(tmp_path):
    # The compose service names only resolve inside compose: point them at this machine.
    conf = (ROOT / "docker" / "nginx.conf").read_text()
    conf = conf.replace("server app:8000", "server 127.0.0.1:18000")
    conf = conf.replace("server app2:8000", "server 127.0.0.1:18001")
    conf = conf.replace("listen 80 default_server;", "listen 127.0.0.1:18080 default_server;")
    (tmp_path / "default.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/default.conf;\n}}\n"
    )

    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


# --- .env.example -----------------------------------------------------------------------------------


def test_env_example_lists_every_contract_and_operations_variable():
    names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.MULTILINE))

    missing = [name for name in CONTRACT_VARIABLES + OPERATIONS_VARIABLES if name not in names]
    assert not missing


def test_env_example_has_no_secret_filled_in():
    values = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"^[A-Z_]+=", line)
    )

    for name in ("SECRET_KEY", "MYSQL_PASSWORD", "PAYACTION_WEBHOOK_KEY", "PAYACTION_API_KEY", "DISCORD_WEBHOOK_URL"):
        assert values[name] == "", name
    assert values["DEBUG"] == "0"
