"""`Idempotency-Key` (CONTRACT.md section 10): a kitchen tablet that lost its connection sends its queued taps
again, and a phone on the festival Wi-Fi its order, cart tap or staff call; what the server already applied
must not apply twice.

Staff writes (IdempotentWrites): the key is claimed by inserting its row in the same transaction as the
write, so the write and its kept answer commit together or not at all; a second request with the key waits
on the row (the database's unique index) and then answers what the first answered. A guest's write keeps
the key on what it made instead (create_once; a cart its last writes' keys, ordering.services.cart_put).
"""

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from core.models import IdempotentAnswer

T = TypeVar("T")

KEEP = timedelta(hours=24)
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
REPLAYED = "Idempotent-Replayed"


class KeyReused(APIException):
    status_code = 409
    default_code = "idempotency_key_reused"
    default_detail = "같은 Idempotency-Key로 다른 요청을 보냈습니다. 새 키를 써 주세요."


class KeyInvalid(APIException):
    status_code = 400
    default_code = "invalid_idempotency_key"
    default_detail = "Idempotency-Key는 1~200자여야 합니다."


class _Replay(APIException):
    """Carries a kept answer out of `initial` to `handle_exception`, before the view runs."""

    def __init__(self, answer: IdempotentAnswer):
        super().__init__()
        self.answer = answer


def _canonical(body: bytes) -> bytes:
    """The same JSON with other spacing or key order is the same body, and no body is `{}` (DRF reads both as
    no data); anything else is compared as bytes."""
    if not body.strip():
        return b"{}"
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        return body


def _fingerprint(request) -> str:
    """DRF's Request passes `body` and `get_full_path` on to Django's (read before the view parses it)."""
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), _canonical(request.body)):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def request_key_digest(request) -> str | None:
    """The request's key as it is stored (a staff write's answer, a guest's order, call or cart write): its
    hash, so that keys differing only in case stay two keys under MariaDB's case-blind collation."""
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > 200:
        raise KeyInvalid()
    return hashlib.sha256(key.encode()).hexdigest() if key else None


def create_once(
    create: Callable[[], T],
    *,
    find: Callable[[], T | None],
    matches: Callable[[T], bool],
    reused: Callable[[], Exception],
    losing: tuple[type[Exception], ...] = (IntegrityError,),
) -> T:
    """A guest's write that keeps its key on the row it makes (a unique column): `create()`, unless the key
    made a row before. Then that row is the answer (marked `resent`), or 409 idempotency_key_reused when it
    was made by another request (`matches` says no; `reused()` is raised).

    A resend racing its first send waits on the first's locks (what it takes, then the key's unique index)
    and loses on one of `losing`: its transaction is undone whole, and the first's row is its answer.
    """

    def made_before() -> T | None:
        row = find()
        if row is None:
            return None
        if not matches(row):
            raise reused()
        row.resent = True
        return row

    if (row := made_before()) is not None:
        return row
    try:
        return create()
    except losing:
        if (row := made_before()) is not None:
            return row
        raise


class IdempotentWrites:
    """Mixin for a DRF view whose writes honour `Idempotency-Key` (staff only: the key is per user).

    A guest's write keeps its key on what it made instead (create_once): the answer to a repeated order is
    that order, and the busiest write of the night gains no row of its own."""

    idempotency_claim: IdempotentAnswer | None = None

    def dispatch(self, request, *args, **kwargs):
        if request.method not in WRITES or "Idempotency-Key" not in request.headers:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            claim = self.idempotency_claim
            if claim is not None:
                if response.status_code >= 500:
                    transaction.set_rollback(True)  # a passing fault: the key stays free for the retry
                else:
                    claim.status, claim.body = response.status_code, getattr(response, "data", None)
                    claim.save(update_fields=["status", "body"])
            return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # who is asking, and may they
        if request.method not in WRITES or not request.user.is_authenticated:
            return
        key = request_key_digest(request)
        if key is None:
            return
        fingerprint = _fingerprint(request)
        try:
            with transaction.atomic():
                self.idempotency_claim = IdempotentAnswer.objects.create(
                    key=key, user=request.user, fingerprint=fingerprint
                )
        except IntegrityError:  # the key was used: after the first request committed (we waited on its row)
            answer = IdempotentAnswer.objects.get(key=key, user=request.user)
            if answer.fingerprint != fingerprint:
                raise KeyReused() from None
            raise _Replay(answer) from None

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            response = Response(exc.answer.body, status=exc.answer.status)
            response[REPLAYED] = "true"
            return response
        return super().handle_exception(exc)


_next_sweep = 0.0


def answers_forget() -> int:
    """Drop answers older than a day (a tablet offline longer re-reads its board)."""
    deleted, _ = IdempotentAnswer.objects.filter(created_at__lt=timezone.now() - KEEP).delete()
    return deleted


def forget_old() -> int:
    """The periodic job (settings.PERIODIC_JOBS): jobs run every second; this sweeps every few minutes."""
    global _next_sweep
    if time.monotonic() < _next_sweep:
        return 0
    _next_sweep = time.monotonic() + 300
    return answers_forget()
