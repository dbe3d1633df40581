"""One line per event; JSON when LOG_FORMAT=json. Request id travels in a context variable.

Callers add context with `extra=` (order_id, trace_id, event_type, ...); every extra key becomes a field.
No secret reaches a line: values under secret-looking keys are masked at any depth, and the configured
secrets themselves (SECRET_KEY, PayAction keys, Discord webhook URLs, database passwords) are masked
wherever they appear, in the message, a field or a traceback.
"""

import contextvars
import json
import logging
from datetime import datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

MASK = "***"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "extra_fields"}
# A key is secret when its name (lower case, "-" read as "_") contains one of these words.
_SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "webhook_key",
    "webhook_url",
    "authorization",
    "cookie",
)
_SECRET_SETTINGS = (
    "SECRET_KEY",
    "PAYACTION_WEBHOOK_KEY",
    "PAYACTION_API_KEY",
    "DISCORD_WEBHOOK_URL",
    "DISCORD_CALL_WEBHOOK_URL",
)
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words


def is_secret_key(key) -> bool:
    name = str(key).lower().replace("-", "_")
    return any(word in name for word in _SECRET_WORDS)


def _masked(value):
    if isinstance(value, dict):
        return {k: MASK if is_secret_key(k) else _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_masked(v) for v in value]
    return value


def _extra(record: logging.LogRecord) -> dict:
    return {
        key: MASK if is_secret_key(key) else _masked(value)
        for key, value in vars(record).items()
        if key not in _STANDARD
    }


def secret_values() -> list[str]:
    """The configured secrets, longest first (a webhook URL before the token inside it)."""
    from django.conf import settings

    if not settings.configured:
        return []
    values = {str(getattr(settings, name, "") or "") for name in _SECRET_SETTINGS}
    for name in ("DISCORD_WEBHOOK_URL", "DISCORD_CALL_WEBHOOK_URL"):
        # https://discord.com/api/webhooks/<id>/<token>: the token alone is the secret too.
        values.add(str(getattr(settings, name, "") or "").rstrip("/").rsplit("/", 1)[-1])
    values.update(str(db.get("PASSWORD") or "") for db in getattr(settings, "DATABASES", {}).values())
    return sorted((v for v in values if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def scrub(line: str) -> str:
    for value in secret_values():
        line = line.replace(value, MASK)
        escaped = json.dumps(value, ensure_ascii=False)[1:-1]  # as it appears inside a JSON string
        if escaped != value:
            line = line.replace(escaped, MASK)
    return line


def _request_id(record: logging.LogRecord) -> str:
    rid = request_id_var.get()
    if rid == "-":
        # django.request logs 4xx/5xx responses after the middleware has returned, with the request.
        rid = getattr(getattr(record, "request", None), "request_id", "-")
    return rid


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id(record)
        extra = _extra(record)
        record.extra_fields = (" " + " ".join(f"{k}={v}" for k, v in extra.items())) if extra else ""
        return True


class TextFormatter(logging.Formatter):
    """Human-readable: `time level logger [request id] message key=value ...` (development)."""

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "extra_fields"):  # a handler without RequestIdFilter
            RequestIdFilter().filter(record)
        return scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line (production): ts, level, logger, request_id, message, then the extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or _request_id(record),
            "message": record.getMessage(),
            **_extra(record),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exc"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return scrub(json.dumps(payload, ensure_ascii=False, default=str))
