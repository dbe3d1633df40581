"""Payment events (CONTRACT.md section 5): to the staff screens only."""

from ordering.events import GROUP_STAFF
from payments.models import PaymentEvent
from payments.serializers import PaymentEventSerializer
from realtime.broadcast import send_event

# Deliveries a person has to look at: no order took them, more than one could have, or money to give back.
ATTENTION = (PaymentEvent.Outcome.UNMATCHED, PaymentEvent.Outcome.AMBIGUOUS, PaymentEvent.Outcome.NEEDS_REFUND)


def payment_received(event: PaymentEvent) -> None:
    if event.outcome in ATTENTION:
        send_event([GROUP_STAFF], "payment.received", payment=PaymentEventSerializer(event).data)


def payment_resolved(event: PaymentEvent) -> None:
    """A delivery that needed a person was dealt with (matched, paid by a confirm, or marked done): off every
    staff screen's list."""
    send_event([GROUP_STAFF], "payment.resolved", payment=PaymentEventSerializer(event).data)
