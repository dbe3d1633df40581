"""Production settings: deploy checks clean, no start without a secret key, HTTPS with a plain /healthz."""

import gzip
import json
import os
import shutil

from tests.deploy.support import PRODUCTION_ENV, ROOT, environment, run


def test_check_deploy_is_clean_in_a_production_environment():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment(**PRODUCTION_ENV))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_secret_key_and_debug_off_the_app_refuses_to_start_with_a_clear_message():
    env = environment(**{**PRODUCTION_ENV, "SECRET_KEY": None})

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_an_empty_secret_key_is_refused_too():
    result = run(["manage.py", "check"], environment(**{**PRODUCTION_ENV, "SECRET_KEY": ""}))

    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_debug_is_off_unless_asked_for():
    env = environment(SECRET_KEY="x" * 50, DEBUG=None)

    result = run(["-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"], env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# Served through the whole middleware stack in a production process: plain HTTP is redirected to
# HTTPS, except /healthz (the container health check); HTTPS as reported by the proxy gets HSTS.
_REQUESTS = """
import json
import django
django.setup()
from django.test import Client

client = Client()
out = {}
plain = client.get("/api/foods/", HTTP_HOST="pub.example.com")
out["plain_api"] = [plain.status_code, plain.get("Location")]
health = client.get("/healthz", HTTP_HOST="pub.example.com")
out["plain_healthz"] = [health.status_code, health.json()]
secure = client.get("/healthz", HTTP_HOST="pub.example.com", HTTP_X_FORWARDED_PROTO="https")
out["https_healthz"] = [secure.status_code, secure.get("Strict-Transport-Security")]
foreign = client.get("/healthz", HTTP_HOST="evil.example.net")
out["foreign_host"] = [foreign.status_code]
print(json.dumps(out))
"""


def test_plain_http_is_redirected_to_https_except_healthz():
    env = environment(**PRODUCTION_ENV, DATABASE_URL="sqlite:///:memory:", DB_HOST=None, REDIS_URL=None)

    result = run(["-c", _REQUESTS], env)

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["plain_api"] == [301, "https://pub.example.com/api/foods/"]
    status, health = out["plain_healthz"]
    assert status == 200
    # The contract's three parts; /healthz may add more (configuration warnings).
    assert {key: health.get(key) for key in ("status", "database", "channel_layer")} == dict.fromkeys(
        ("status", "database", "channel_layer"), "ok"
    )
    assert out["https_healthz"] == [200, "max-age=31536000; includeSubDomains; preload"]
    assert out["foreign_host"] == [400]


def test_cookies_are_secure_and_the_proxy_header_is_trusted_in_production():
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, list(s.SECURE_PROXY_SSL_HEADER), s.SECURE_REDIRECT_EXEMPT]))"
    )

    result = run(["-c", script], environment(**PRODUCTION_ENV))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, True, ["HTTP_X_FORWARDED_PROTO", "https"], ["^healthz$"]]


def test_mysql_connections_use_utf8mb4_and_read_committed():
    # Settings only, no connection: runs where the mysql extra is not installed (the embedded CI pass).
    script = (
        "import json; from django.conf import settings; d = settings.DATABASES['default']; "
        "print(json.dumps([d['ENGINE'].rsplit('.', 1)[-1], d['OPTIONS'], d['CONN_HEALTH_CHECKS']]))"
    )
    env = environment(**PRODUCTION_ENV, DATABASE_URL="mysql://pub:secret@db.invalid:3306/pub")

    result = run(["-c", script], env)

    assert result.returncode == 0, result.stderr
    vendor, options, health_checks = json.loads(result.stdout)
    assert vendor == "mysql"
    assert options["charset"] == "utf8mb4"
    assert options["isolation_level"] == "read committed"
    assert health_checks is True


# WhiteNoise: finders serve static/ as it is, uncompressed and ahead of the collected files. The image
# collects (and compresses) static files, so there only the collected ones may be served; development
# and a checkout with nothing collected (the tests' servers) keep the finders.
_STATIC = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

response = Client().get("/static/js/common.js", HTTP_ACCEPT_ENCODING="gzip")
print(json.dumps([settings.WHITENOISE_USE_FINDERS, response.status_code, response.get("Content-Encoding")]))
"""


def _static_in(base_dir, debug: str) -> list:
    """Settings loaded from a copy of config/settings.py in base_dir: BASE_DIR (and STATIC_ROOT) is there."""
    package = base_dir / "copied_config"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(ROOT / "config" / "settings.py", package / "settings.py")
    (base_dir / "static").symlink_to(ROOT / "static")
    env = environment(
        DEBUG=debug,
        SECRET_KEY="static-files-test-secret-key",
        DJANGO_SETTINGS_MODULE="copied_config.settings",
        PYTHONPATH=os.pathsep.join([str(base_dir), str(ROOT)]),
        DATABASE_URL="sqlite:///:memory:",
        DB_HOST=None,
        REDIS_URL=None,
    )
    result = run(["-c", _STATIC], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _collect_common_js(base_dir) -> None:
    """What `collectstatic` leaves in STATIC_ROOT for one file with CompressedStaticFilesStorage."""
    collected = base_dir / "staticfiles" / "js"
    collected.mkdir(parents=True)
    source = (ROOT / "static" / "js" / "common.js").read_bytes()
    (collected / "common.js").write_bytes(source)
    (collected / "common.js.gz").write_bytes(gzip.compress(source))


def test_collected_static_files_are_served_compressed_without_finders(tmp_path):
    _collect_common_js(tmp_path)

    use_finders, status, encoding = _static_in(tmp_path, debug="0")

    assert use_finders is False
    assert (status, encoding) == (200, "gzip")


def test_with_nothing_collected_the_finders_serve_static_files(tmp_path):
    use_finders, status, encoding = _static_in(tmp_path, debug="0")

    assert use_finders is True
    assert (status, encoding) == (200, None)


def test_debug_serves_static_as_it_is_even_when_collected(tmp_path):
    _collect_common_js(tmp_path)

    use_finders, status, _ = _static_in(tmp_path, debug="1")

    assert use_finders is True
    assert status == 200
