"""Exactly-once delivery to outside services (Discord, PayAction), shared by every outbox.

A row is claimed by one conditional UPDATE on its own columns that sets a lease (`<prefix>next_attempt_at`
in the future): the database lets only one process win it, so with several servers each row is sent once.
After the HTTP call the row is marked done, or its lease is moved to the next attempt (exponential backoff,
or the service's own `retry_after`). If a process dies mid-send the lease runs out and another process
sends it (at-least-once in that one case: the outside service may have received the first call).
"""

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60


@dataclass(frozen=True)
class Delivery:
    ok: bool
    retry_after: float | None = None  # seconds the service asked us to wait
    permanent: bool = False  # refused for good (a 4xx other than 429): retrying cannot help
    status: int | None = None


def post_json(
    url: str,
    payload: dict,
    *,
    headers: dict | None = None,
    accept: Callable[[requests.Response], bool] | None = None,
) -> Delivery:
    """POST JSON; `accept` can refuse a 2xx whose body reports an error (retried like a 5xx)."""
    host = url.split("/")[2] if "//" in url else ""
    try:
        response = requests.post(url, json=payload, headers=headers or {}, timeout=settings.OUTSIDE_HTTP_TIMEOUT)
    except requests.RequestException as exc:
        logger.warning("outside call failed", extra={"url_host": host, "error": type(exc).__name__})
        return Delivery(ok=False)
    if 200 <= response.status_code < 300:
        if accept is not None and not accept(response):
            logger.warning("outside call answered an error", extra={"url_host": host, "status": response.status_code})
            return Delivery(ok=False, status=response.status_code)
        return Delivery(ok=True, status=response.status_code)
    retry_after = None
    if response.status_code == 429:
        retry_after = _retry_after(response)
    return Delivery(
        ok=False,
        retry_after=retry_after,
        permanent=400 <= response.status_code < 500 and response.status_code not in (408, 409, 425, 429),
        status=response.status_code,
    )


def _retry_after(response: requests.Response) -> float | None:
    try:
        value = response.json().get("retry_after")
        if value is not None:
            # Discord sends seconds (float); some older senders used milliseconds.
            value = float(value)
            return value / 1000 if value > 300 else value
    except (ValueError, AttributeError):
        pass
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


DEADLOCK = 1213  # MySQL/MariaDB: this statement was chosen as a deadlock victim and rolled back whole


def _update(queryset: QuerySet, **fields) -> int:
    """One UPDATE of the outbox, run again if MariaDB chose it as a deadlock victim.

    Racing senders' single-row UPDATEs can deadlock on the outbox index they all change; the victim's
    statement is undone whole, so running it again is safe (outside a transaction, where it is all there is).
    Giving up instead would leave a sent row unmarked, to be sent again when its lease ran out.
    """
    for _ in range(2):
        try:
            return queryset.update(**fields)
        except OperationalError as exc:
            if exc.args[:1] != (DEADLOCK,) or connection.in_atomic_block:
                raise
    return queryset.update(**fields)  # the third try: its error, whatever it is, goes up


def backoff_seconds(attempts: int) -> float:
    return min(settings.OUTBOX_BACKOFF_BASE_SECONDS * 2**attempts, MAX_BACKOFF_SECONDS)


def lease_seconds() -> float:
    # Longer than one call can take (connect and read timeouts), so a live sender never loses its row.
    return max(settings.OUTBOX_LEASE_SECONDS, 3 * settings.OUTSIDE_HTTP_TIMEOUT)


def _held(key: str) -> bool:
    try:
        return bool(cache.get(key))
    except Exception:  # no cache (Redis down): the rows' own retry times still apply
        return False


def _hold(key: str, seconds: float) -> None:
    try:
        cache.set(key, True, timeout=max(1, math.ceil(seconds)))
    except Exception:
        logger.warning("outbox hold not stored", extra={"key": key})


def dispatch(
    *,
    queryset: QuerySet,
    prefix: str,
    done_field: str,
    send: Callable[[object], Delivery],
    limit: int = 20,
) -> int:
    """Send what is due in `queryset` (rows not done); returns how many were delivered."""
    model = queryset.model
    next_field, attempts_field = f"{prefix}next_attempt_at", f"{prefix}attempts"
    hold_key = f"outbox:hold:{model._meta.label_lower}"
    if _held(hold_key):
        return 0  # rate limited: nothing is sent before the service's retry_after, new rows included

    def due(at):
        return Q(**{done_field: False}) & (Q(**{f"{next_field}__isnull": True}) | Q(**{f"{next_field}__lte": at}))

    now = timezone.now()
    candidates = list(queryset.filter(due(now)).order_by(next_field, "pk").values_list("pk", flat=True)[:limit])
    delivered = 0
    for pk in candidates:
        lease = timezone.now() + timedelta(seconds=lease_seconds())
        # The claim filters on the row's own columns only: one UPDATE ... WHERE that the database decides.
        # (An UPDATE through the queryset's joins may run as SELECT then UPDATE by id, which two processes
        # can both win.)
        won = _update(model.objects.filter(due(now), pk=pk), **{next_field: lease})
        if not won:
            continue
        row = queryset.filter(pk=pk).first()
        if row is None:  # no longer wanted (say, the pre-order got paid meanwhile)
            continue
        try:
            result = send(row)
        except Exception:  # a bug building the message must not stop the other rows
            logger.exception("outside call crashed", extra={"model": model.__name__, "pk": str(pk)})
            result = Delivery(ok=False)
        if result.ok or result.permanent:
            if result.permanent:
                logger.error(
                    "outside service refused for good",
                    extra={"model": model.__name__, "pk": str(pk), "status": result.status},
                )
            _update(model.objects.filter(pk=pk), **{done_field: True, attempts_field: F(attempts_field) + 1})
            delivered += int(result.ok)
            continue
        attempts = getattr(row, attempts_field) + 1
        wait = result.retry_after if result.retry_after is not None else backoff_seconds(attempts)
        retry_at = timezone.now() + timedelta(seconds=wait)
        _update(model.objects.filter(pk=pk), **{attempts_field: attempts, next_field: retry_at})
        logger.warning(
            "outside call will be retried",
            extra={"model": model.__name__, "pk": str(pk), "attempt": attempts, "wait_s": wait},
        )
        if result.retry_after is not None:
            _hold(hold_key, wait)
            # Rate limited: the service takes nothing before retry_at, so every pending row waits (in every
            # process: the wait is written to the rows). Leases running out sooner are only lengthened.
            _update(queryset.filter(due(retry_at)), **{next_field: retry_at})
            break
    return delivered
