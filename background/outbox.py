"""Exactly-once delivery to outside services (Discord, PayAction), shared by every outbox.

A row is claimed by one conditional UPDATE on its own columns that sets a lease (`<prefix>next_attempt_at`
in the future): the database lets only one process win it, so with several servers each row is sent once.
After the HTTP call the row is marked done, or its lease is moved to the next attempt (exponential backoff,
or the service's own `retry_after`). If a process dies mid-send the lease runs out and another process
sends it (at-least-once in that one case: the outside service may have received the first call).

A 429 holds the whole service (a Discord webhook is one bucket) until its `retry_after`: nothing more is sent
to it before then, whichever row, outbox or process. The hold is written to the cache (Redis: shared by every
process) and to the database (`background.OutboxHold`), and every claim checks the database, so it holds with a
per-process cache, with the cache down, and for rows that became due during the wait.
"""

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models import Exists, F, Q, QuerySet
from django.utils import timezone

from background.models import OutboxHold

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
        response = requests.post(url, json=payload, headers=headers or {}, timeout=call_timeout())
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
            if exc.args[:1] != (DEADLOCK,) or not transaction.get_autocommit():
                raise
    return queryset.update(**fields)  # the third try: its error, whatever it is, goes up


def backoff_seconds(attempts: int) -> float:
    return min(settings.OUTBOX_BACKOFF_BASE_SECONDS * 2**attempts, MAX_BACKOFF_SECONDS)


def call_timeout() -> tuple[float, float]:
    """(connect, read) seconds of one call (settings.OUTSIDE_HTTP_TIMEOUT, OUTSIDE_HTTP_READ_TIMEOUT)."""
    return settings.OUTSIDE_HTTP_TIMEOUT, settings.OUTSIDE_HTTP_READ_TIMEOUT


def lease_seconds() -> float:
    # Longer than one call can take (connect and read timeouts), so a live sender never loses its row.
    return max(settings.OUTBOX_LEASE_SECONDS, 1.5 * sum(call_timeout()))


def _service_id(service: str) -> str:
    return hashlib.sha256(service.encode()).hexdigest()  # a webhook URL is a secret: neither stored nor logged


def _cache_key(service_id: str) -> str:
    return f"outbox:hold:{service_id}"


def hold(service: str, seconds: float) -> datetime:
    """Send nothing to `service` for `seconds`, from any process; a longer hold already there stays."""
    service_id, until = _service_id(service), timezone.now() + timedelta(seconds=seconds)
    try:
        cache.set(_cache_key(service_id), until, timeout=max(1, math.ceil(seconds)))
    except Exception:  # no cache (Redis down): the database keeps the hold
        logger.warning("outbox hold not cached", extra={"service": service_id[:12]})
    longer = OutboxHold.objects.filter(service=service_id, until__lt=until)
    if not _update(longer, until=until):
        _, created = OutboxHold.objects.get_or_create(service=service_id, defaults={"until": until})
        if not created:  # another process wrote its hold meanwhile: the later end wins
            _update(longer, until=until)
    return until


def held_until(service: str) -> datetime | None:
    """The end of `service`'s hold if it is held now: the cache's word if it has one, else the database's."""
    service_id, now = _service_id(service), timezone.now()
    try:
        until = cache.get(_cache_key(service_id))
    except Exception:
        until = None
    if isinstance(until, datetime) and until > now:
        return until
    return OutboxHold.objects.filter(service=service_id, until__gt=now).values_list("until", flat=True).first()


def dispatch(
    *,
    queryset: QuerySet,
    prefix: str,
    done_field: str,
    send: Callable[[object], Delivery],
    limit: int = 20,
    service: str | None = None,
) -> int:
    """Send what is due in `queryset` (rows not done); returns how many were delivered.

    `service` names what the rows are sent to, for a 429's hold (say, the webhook URL: two outboxes posting
    to one webhook share its hold); by default the model.
    """
    model = queryset.model
    next_field, attempts_field = f"{prefix}next_attempt_at", f"{prefix}attempts"
    service = service or f"model:{model._meta.label_lower}"
    if held_until(service) is not None:
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
        # It also checks the hold in the database: a 429 recorded by another sender meanwhile stops this round.
        not_held = ~Exists(OutboxHold.objects.filter(service=_service_id(service), until__gt=timezone.now()))
        won = _update(model.objects.filter(due(now), not_held, pk=pk), **{next_field: lease})
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
        # Rate limited: the service takes nothing before then, whichever row (new ones included) and whichever
        # process. The hold is recorded first, so that other senders stop as soon as possible.
        rate_limited = result.retry_after is not None
        retry_at = hold(service, wait) if rate_limited else timezone.now() + timedelta(seconds=wait)
        _update(model.objects.filter(pk=pk), **{attempts_field: attempts, next_field: retry_at})
        logger.warning(
            "outside call will be retried",
            extra={"model": model.__name__, "pk": str(pk), "attempt": attempts, "wait_s": wait},
        )
        if rate_limited:
            # The rows' own retry times say so too (leases running out sooner are only lengthened).
            _update(queryset.filter(due(retry_at)), **{next_field: retry_at})
            break
    return delivered
