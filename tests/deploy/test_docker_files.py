"""The container files, checked without a Docker engine: shell syntax, YAML structure, Dockerfile stages."""

import importlib.util
import re
import shutil
import subprocess

import pytest
import yaml

from tests.deploy.support import ROOT

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

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
    daphne = text.index("exec daphne -b 0.0.0.0 -p 8000 --proxy-headers")
    assert migrate < seed_data < seed_tables < daphne
    assert 'if [ "$SEED_ON_START" = "1" ]' in text
    assert text.rstrip().endswith("config.asgi:application")


def test_entrypoint_runs_a_given_command_instead():
    result = subprocess.run(["sh", str(ENTRYPOINT), "echo", "one-off"], capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "one-off\n"


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
    module = _healthcheck_module()
    monkeypatch.setattr(module, "URL", "http://127.0.0.1:9/healthz")  # discard port: connection refused

    assert module.main() == 1


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
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in (ROOT / "Dockerfile").read_text()


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


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".env", ".venv", ".git", "db.sqlite3*", "staticfiles"} <= ignored


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
