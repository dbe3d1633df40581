"""Logs: one line per event, JSON when LOG_FORMAT=json, with request id and the event's fields; no secret."""

import json
import logging

import pytest
from django.test import override_settings

from tests.deploy.support import environment, run

WEBHOOK_KEY = "whk-test-Sup3rSecret-value"
DISCORD_URL = "https://discord.com/api/webhooks/123456789/AbCdEf-discord-token-value"

_LOG_EVENTS = f"""
import logging
import django
django.setup()
from core.logging import request_id_var

request_id_var.set("req-abc123")
log = logging.getLogger("payments.services")
log.info(
    "payment event",
    extra={{
        "order_id": "6f1c2d3e-0000-4000-8000-000000000001",
        "event_type": "order.paid",
        "x-webhook-key": "{WEBHOOK_KEY}",
        "headers": {{"X-Webhook-Key": "{WEBHOOK_KEY}", "x-trace-id": "t-1"}},
    }},
)
log.warning("alert failed for %s", "{DISCORD_URL}", extra={{"order_id": "o-2"}})
try:
    raise RuntimeError("key was {WEBHOOK_KEY}\\nsecond line")
except RuntimeError:
    log.exception("webhook rejected", extra={{"order_id": "o-3"}})
"""


def _log_lines(log_format: str) -> list[str]:
    env = environment(
        LOG_FORMAT=log_format,
        SECRET_KEY="test-only-secret-key-for-logging",
        PAYACTION_WEBHOOK_KEY=WEBHOOK_KEY,
        DISCORD_WEBHOOK_URL=DISCORD_URL,
    )
    result = run(["-c", _LOG_EVENTS], env)
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


@pytest.fixture(scope="module")
def json_lines() -> list[str]:
    return _log_lines("json")


def test_json_logs_are_one_json_object_per_line_with_request_and_order_ids(json_lines):
    lines = json_lines

    records = [json.loads(line) for line in lines]  # every line parses: tracebacks stay inside one line
    assert [r["message"] for r in records] == [
        "payment event",
        "alert failed for ***",
        "webhook rejected",
    ]
    first = records[0]
    assert first["level"] == "INFO"
    assert first["logger"] == "payments.services"
    assert first["request_id"] == "req-abc123"
    assert first["order_id"] == "6f1c2d3e-0000-4000-8000-000000000001"
    assert first["event_type"] == "order.paid"
    assert first["ts"][10] == "T"
    assert first["x-webhook-key"] == "***"
    assert first["headers"] == {"X-Webhook-Key": "***", "x-trace-id": "t-1"}
    assert records[2]["order_id"] == "o-3"
    assert "RuntimeError" in records[2]["exc"]


def test_json_logs_never_contain_a_secret(json_lines):
    output = "\n".join(json_lines)

    assert WEBHOOK_KEY not in output
    assert DISCORD_URL not in output
    assert "AbCdEf-discord-token-value" not in output


def test_text_logs_mask_secrets_too():
    output = "\n".join(_log_lines("text"))

    assert "[req-abc123] payment event" in output
    assert "order_id=6f1c2d3e-0000-4000-8000-000000000001" in output
    assert WEBHOOK_KEY not in output
    assert "AbCdEf-discord-token-value" not in output


@pytest.mark.parametrize("key", ["password", "DB_PASSWORD", "api_key", "x-api-key", "Authorization", "token"])
def test_secret_looking_keys_are_masked(key):
    from core.logging import JsonFormatter

    record = logging.makeLogRecord({"msg": "m", "levelname": "INFO", key: "s3cr3t-value"})

    assert json.loads(JsonFormatter().format(record))[key] == "***"


@pytest.mark.django_db(transaction=True)
@override_settings(ACCESS_LOG=True)
def test_access_log_line_per_request_without_query_string(asgi_request, caplog):
    # The first request of a process imports the URLconf (seconds on a busy machine), longer than the
    # test client waits: done before the request under test.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (the import is the point)
    caplog.set_level(logging.INFO, logger="core.access")

    status, headers, _ = asgi_request(
        "GET", "/api/no-such-endpoint/?token=abc123", headers=[(b"x-request-id", b"rid-from-proxy")]
    )

    assert status == 404
    (record,) = [r for r in caplog.records if r.name == "core.access"]
    assert record.getMessage() == "request"
    assert (record.method, record.path, record.status) == ("GET", "/api/no-such-endpoint/", 404)
    assert record.duration_ms >= 0
    assert record.request_id == "rid-from-proxy"
    assert headers[b"x-request-id"] == b"rid-from-proxy"


@pytest.mark.django_db(transaction=True)
def test_every_answer_gets_a_new_request_id_without_a_proxys(asgi_request):
    first = asgi_request("GET", "/api/no-such-endpoint/")[1][b"x-request-id"]
    second = asgi_request("GET", "/api/no-such-endpoint/")[1][b"x-request-id"]

    assert first and second and first != second


@pytest.mark.django_db(transaction=True)
@override_settings(ACCESS_LOG=False)
def test_no_access_log_line_when_off(asgi_request, caplog):
    caplog.set_level(logging.DEBUG, logger="core.access")

    asgi_request("GET", "/api/no-such-endpoint/")

    assert not [r for r in caplog.records if r.name == "core.access"]
