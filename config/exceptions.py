"""The one place where every failure becomes the contract's body: {"code", "detail", ...}."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ordering.errors import DomainError

logger = logging.getLogger(__name__)

KOREAN_DETAIL = {
    "not_authenticated": "로그인이 필요합니다.",
    "authentication_failed": "인증 정보가 올바르지 않습니다.",
    "permission_denied": "직원만 사용할 수 있습니다.",
    "not_found": "찾을 수 없습니다.",
    "method_not_allowed": "허용되지 않는 요청 방식입니다.",
    "not_acceptable": "지원하지 않는 응답 형식입니다.",
    "unsupported_media_type": "JSON 본문(Content-Type: application/json)만 받습니다.",
    "parse_error": "JSON 본문을 읽을 수 없습니다.",
    "throttled": "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.",
    "csrf_failed": "CSRF 검증에 실패했습니다. 페이지를 새로고침해 주세요.",
    "bad_request": "잘못된 요청입니다.",
    "payload_too_large": "요청 본문이 너무 큽니다.",
    "server_error": "서버 오류가 발생했습니다.",
    "error": "요청을 처리할 수 없습니다.",
}
# DRF's own code for a rate limit, as the contract names it; a view's own Throttled subclass keeps its code.
THROTTLED_CODES = {"throttled": "too_many_requests"}


# DRF's messages that it does not offer for translation.
UNTRANSLATED = {"No data provided": "입력값이 없습니다. JSON 객체를 보내 주세요."}


def _messages(detail, path: tuple = ()) -> list[str]:
    """Every message under one field as the contract's flat list; a nested one names where it is
    ("0.quantity: ..." for the first line's quantity)."""
    if isinstance(detail, dict):
        return [message for key, value in detail.items() for message in _messages(value, (*path, str(key)))]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [message for item in detail for message in _messages(UNTRANSLATED.get(str(item), str(item)), path)]
        return [message for index, item in enumerate(detail) for message in _messages(item, (*path, str(index)))]
    return [f"{'.'.join(path)}: {detail}" if path else str(detail)]


def error_body(code: str, detail: str, **extra) -> dict:
    return {"code": code, "detail": detail, **extra}


def exception_handler(exc, context):
    """DRF's documented hook: our own failures, then DRF's handler (its headers: WWW-Authenticate,
    Retry-After; its rollback) with the body reshaped to the contract's."""
    if isinstance(exc, DomainError):
        body = exc.body()
        retry = body.get("retry_after")  # a limit (too_many_attempts) says when to come back, in the header too
        return Response(body, status=exc.status_code, headers={"Retry-After": str(retry)} if retry else None)
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            error_body("invalid", "입력값이 올바르지 않습니다.", errors={f: _messages(e) for f, e in errors.items()}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None:
        if isinstance(exc, Http404):
            code = "not_found"
        elif isinstance(exc, DjangoPermissionDenied):
            code = "permission_denied"
        else:
            codes = exc.get_codes()
            code = codes if isinstance(codes, str) else exc.default_code
        if isinstance(exc, exceptions.Throttled):
            code = THROTTLED_CODES.get(code, code)
            response.data = error_body(code, KOREAN_DETAIL["throttled"])
            if exc.wait is not None:  # whole seconds, rounded up: a client that waits that long gets through
                response.data["retry_after"] = int(exc.wait) + 1
                response["Retry-After"] = str(response.data["retry_after"])
        else:
            response.data = error_body(code, KOREAN_DETAIL.get(code, str(getattr(exc, "detail", ""))))
        return response
    if isinstance(exc, DataError | OverflowError):
        # A value the database cannot hold (a number out of range): the input's fault, never a passing
        # one, so not a 503 that PayAction or a phone would retry forever.
        logger.warning("value out of range", extra={"error": type(exc).__name__})
        return Response(
            error_body("value_out_of_range", "처리할 수 없는 값이 포함되어 있습니다."),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, OperationalError | InterfaceError | DatabaseError):
        # A passing database fault: answer quickly with 503 so clients (and PayAction) retry.
        logger.error("database unavailable: %s", exc, exc_info=exc)
        return Response(
            error_body("service_unavailable", "일시적으로 처리할 수 없습니다. 잠시 후 다시 시도해 주세요."),
            status=503,
            headers={"Retry-After": "2"},
        )
    return None


def _json(code: str, detail: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, detail), status=status_code, json_dumps_params={"ensure_ascii": False})


def handler400(request, exception=None):
    return _json("bad_request", KOREAN_DETAIL["bad_request"], 400)


def handler403(request, exception=None):
    return _json("permission_denied", KOREAN_DETAIL["permission_denied"], 403)


def handler404(request, exception=None):
    return _json("not_found", KOREAN_DETAIL["not_found"], 404)


def handler500(request):
    return _json("server_error", KOREAN_DETAIL["server_error"], 500)


def csrf_failure(request, reason=""):
    return _json("csrf_failed", KOREAN_DETAIL["csrf_failed"], 403)
