"""Exactly-once delivery to outside services (Discord, PayAction), shared by every outbox.

A row is claimed by one conditional UPDATE that sets a lease (`<prefix>next_attempt_at` in the future):
only one process can win it, so with several servers each row is sent once. After the HTTP call the
row is marked done, or its lease is moved to the next attempt (exponential backoff, or the service's
own `retry_after`). If a process dies mid-send the lease runs out and another process sends it.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)

LEASE_SECONDS = 30
MAX_BACKOFF_SECONDS = 60


@dataclass(frozen=True)
class Delivery:
    ok: bool
    retry_after: float | None = None  # seconds the service asked us to wait
    permanent: bool = False  # refused for good (a 4xx other than 429): retrying cannot help
    status: int | None = None


def post_json(url: str, payload: dict, *, headers: dict | None = None) -> Delivery:
    try:
        response = requests.post(url, json=payload, headers=headers or {}, timeout=settings.OUTSIDE_HTTP_TIMEOUT)
    except requests.RequestException as exc:
        logger.warning(
            "outside call failed",
            extra={"url_host": url.split("/")[2] if "//" in url else "", "error": type(exc).__name__},
        )
        return Delivery(ok=False)
    if 200 <= response.status_code < 300:
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


def dispatch(
    *,
    queryset: QuerySet,
    prefix: str,
    done_field: str,
    send: Callable[[object], Delivery],
    limit: int = 20,
) -> int:
    """Send what is due in `queryset` (rows not done); returns how many were delivered."""
    next_field, attempts_field = f"{prefix}next_attempt_at", f"{prefix}attempts"
    now = timezone.now()
    due = queryset.filter(**{done_field: False}).filter(
        Q(**{f"{next_field}__isnull": True}) | Q(**{f"{next_field}__lte": now})
    )
    delivered = 0
    for pk in list(due.order_by(next_field, "pk").values_list("pk", flat=True)[:limit]):
        lease = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        won = due.filter(pk=pk).update(**{next_field: lease})  # the claim: one winner across processes
        if not won:
            continue
        row = queryset.get(pk=pk)
        result = send(row)
        if result.ok or result.permanent:
            if result.permanent:
                logger.error(
                    "outside service refused for good",
                    extra={"model": queryset.model.__name__, "pk": str(pk), "status": result.status},
                )
            queryset.model.objects.filter(pk=pk).update(**{done_field: True, attempts_field: F(attempts_field) + 1})
            delivered += int(result.ok)
            continue
        attempts = getattr(row, attempts_field) + 1
        wait = result.retry_after if result.retry_after is not None else min(2**attempts, MAX_BACKOFF_SECONDS)
        queryset.model.objects.filter(pk=pk).update(
            **{attempts_field: attempts, next_field: timezone.now() + timedelta(seconds=wait)}
        )
        logger.warning(
            "outside call will be retried",
            extra={"model": queryset.model.__name__, "pk": str(pk), "attempt": attempts, "wait_s": wait},
        )
        if result.retry_after is not None:
            break  # rate limited: the rest wait too
    return delivered
