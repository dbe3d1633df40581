"""Reads of the payments app."""

from django.db.models import QuerySet

from ordering.errors import NotFound
from ordering.selectors import parse_int_id
from payments.events import ATTENTION
from payments.models import PaymentEvent
from payments.serializers import PaymentEventSerializer


def payment_not_found() -> NotFound:
    return NotFound("입금 알림을 찾을 수 없습니다.", code="payment_not_found")


def payment_event_get(*, event_id, lock: bool = False) -> PaymentEvent:
    """One stored delivery (404 payment_not_found for an unknown or malformed id); `lock` inside a write."""
    pk = parse_int_id(event_id, missing=payment_not_found)
    events = PaymentEvent.objects.select_for_update() if lock else PaymentEvent.objects
    event = events.filter(pk=pk).first()
    if event is None:
        raise payment_not_found()
    return event


def payment_events(*, outcome: str | None = None, open_only: bool = False) -> QuerySet[PaymentEvent]:
    """Stored deliveries, newest first; `open_only`: those a person still has to deal with (an outcome needing
    attention, not resolved since)."""
    events = PaymentEvent.objects.order_by("-received_at", "-id")
    if outcome:
        events = events.filter(outcome=outcome)
    if open_only:
        events = events.filter(outcome__in=ATTENTION, resolved_at__isnull=True)
    return events


def payments_needing_attention() -> QuerySet[PaymentEvent]:
    return payment_events(open_only=True)[:200]


def staff_snapshot_part() -> dict:
    """The staff screens' "payments" (CONTRACT.md section 5): deliveries staff must look at."""
    return {"payments": PaymentEventSerializer(payments_needing_attention(), many=True).data}
