import logging
import time
import uuid

from django.conf import settings
from django.http import JsonResponse

from config.logging import request_id_var

access_logger = logging.getLogger("config.access")


def request_id(header: str | None) -> str:
    """The proxy's X-Request-ID if it sent one, else a new id."""
    return (header or "")[:64] or uuid.uuid4().hex[:16]


def log_request(method: str, path: str, status: int, started: float) -> None:
    if settings.ACCESS_LOG:
        access_logger.log(
            logging.DEBUG if path == "/healthz" else logging.INFO,  # probed every few seconds
            "request",
            extra={
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )


class RequestIdMiddleware:
    """Tags every log line of a request with its id (X-Request-ID from a proxy, else a new one).

    With ACCESS_LOG on (the default with LOG_FORMAT=json, where daphne's plain-text access log is
    off), it also logs one "request" line per request: method, path (never the query string, which
    may carry a token), status and duration.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = request_id(request.headers.get("X-Request-ID"))
        request.request_id = rid  # for django.request's error lines, logged after this middleware returns
        token = request_id_var.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            log_request(request.method, request.path, response.status_code, started)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = rid
        return response


class BodySizeLimitMiddleware:
    """Refuses bodies over MAX_REQUEST_BODY_BYTES before anything parses them (DRF reads the raw stream)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = self._body_length(request)
        if length > settings.MAX_REQUEST_BODY_BYTES and not request.path.startswith("/admin/"):
            return JsonResponse(
                {
                    "code": "payload_too_large",
                    "detail": f"요청 본문이 너무 큽니다 (최대 {settings.MAX_REQUEST_BODY_BYTES // 1024}KB).",
                },
                status=413,
                json_dumps_params={"ensure_ascii": False},
            )
        return self.get_response(request)

    @staticmethod
    def _body_length(request) -> int:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length or request.method in ("GET", "HEAD", "OPTIONS"):
            return length
        # No Content-Length (Transfer-Encoding: chunked): under ASGI the server has already spooled the
        # whole body into a file, and Django's own size check only reads Content-Length. Measure the file.
        stream = getattr(request, "_stream", None)
        try:
            position = stream.tell()
            size = stream.seek(0, 2)
            stream.seek(position)
        except (AttributeError, OSError, ValueError):
            return 0  # WSGI: without Content-Length the server hands over no body at all
        return size - position


class JsonErrorsMiddleware:
    """API paths answer errors in the contract's JSON body, even with DEBUG on.

    Errors raised in DRF views are already JSON (config.exceptions); this catches what happens outside
    them: unknown API paths, Django's own 404/405/500 pages, and anything that escaped a view.
    """

    API_PREFIXES = ("/api/", "/healthz")
    STATUS_CODES = {
        400: ("bad_request", "잘못된 요청입니다."),
        403: ("permission_denied", "직원만 사용할 수 있습니다."),
        404: ("not_found", "찾을 수 없습니다."),
        405: ("method_not_allowed", "허용되지 않는 요청 방식입니다."),
        413: ("payload_too_large", "요청 본문이 너무 큽니다."),
        500: ("server_error", "서버 오류가 발생했습니다."),
    }

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(self.API_PREFIXES)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, detail = self.STATUS_CODES.get(
                response.status_code,
                ("server_error" if response.status_code >= 500 else "error", "요청을 처리할 수 없습니다."),
            )
            return JsonResponse(
                {"code": code, "detail": detail},
                status=response.status_code,
                json_dumps_params={"ensure_ascii": False},
            )
        return response
