"""Reads of the payments app."""

from ordering.errors import NotFound
from ordering.selectors import parse_int_id
from payments.models import PaymentEvent


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
