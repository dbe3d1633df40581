"""Domain errors: raised by services, turned into the contract's error body by one exception handler."""

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "error"
    detail = "요청을 처리할 수 없습니다."

    def __init__(self, detail: str | None = None, *, code: str | None = None, status: int | None = None, **extra: Any):
        self.detail = detail or self.detail
        self.code = code or self.code
        self.status_code = status or self.status_code
        self.extra = extra
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    detail = "찾을 수 없습니다."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    detail = "현재 상태에서는 처리할 수 없습니다."
