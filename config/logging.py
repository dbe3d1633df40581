"""One line per event; JSON when LOG_FORMAT=json. Request id travels in a context variable."""

import contextvars
import json
import logging

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "extra_fields"}
# Never written to a log line, whatever a caller passes in `extra`.
_SECRET_KEYS = {"x-webhook-key", "x_webhook_key", "webhook_key", "api_key", "x-api-key", "password", "token"}


def _extra(record: logging.LogRecord) -> dict:
    return {
        key: ("***" if key.lower() in _SECRET_KEYS else value)
        for key, value in vars(record).items()
        if key not in _STANDARD
    }


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        extra = _extra(record)
        record.extra_fields = (" " + " ".join(f"{k}={v}" for k, v in extra.items())) if extra else ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            **_extra(record),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)
