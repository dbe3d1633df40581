"""Writes of the pay-first flow: pre-orders, PayAction deliveries, expiry, staff payment actions.

Money rules: the server computes every total; a deposit completes exactly one pending pre-order, found
under row locks, or is kept for staff; a delivery is processed once (unique trace id).
"""

import hashlib
import logging
import unicodedata
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from background import outbox
from core import audit
from ordering import events
from ordering.errors import Conflict, DomainError
from ordering.models import Order, OrderItem, OrderStatus, Refund
from ordering.selectors import order_get, order_locked, table_for_order, with_lines
from ordering.services import cart_ordered, order_create_locked, order_create_once, stock_release, stock_reserve
from payments import events as payment_events
from payments import payaction
from payments.models import TRACE_ID_MAX_LENGTH, PayActionRegistration, PaymentEvent
from payments.selectors import payment_event_get

logger = logging.getLogger(__name__)

Outcome = PaymentEvent.Outcome
REVIVE_WINDOW = timedelta(hours=24)  # a deposit this late for an expired pre-order still revives it


def toss_link(amount: int) -> str:
    return (
        f"supertoss://send?amount={amount}&bank={quote(settings.BANK_NAME, safe='')}"
        f"&accountNo={quote(settings.BANK_ACCOUNT_NO, safe='')}&origin=qr"
    )


def pay_details(order: Order) -> dict:
    """How to pay a pre-order while it waits for its money: the Toss link, and the account in words for a guest
    without the Toss app. Nothing for any other order: a transfer for it would only end as a refund."""
    if order.status != OrderStatus.PRE_ORDER:
        return {"redirect_url": None, "bank_name": None, "bank_account_no": None}
    return {
        "redirect_url": toss_link(order.total_amount),
        "bank_name": settings.BANK_NAME,
        "bank_account_no": settings.BANK_ACCOUNT_NO,
    }


def _match_key(payer_name: str, amount: int) -> str:
    return f"{payer_name}:{amount}"


# --- pre-orders -------------------------------------------------------------------------------------


def pre_order_create(
    *,
    table_id,
    payer_name: str,
    total_amount: int,
    quantities: dict[int, int],
    cart_version: int | None = None,
    client_key: str | None = None,
) -> Order:
    """A pay-first order: stock reserved now, completed by the deposit, released if never paid. With
    `client_key`, placed once (ordering.services.order_create_once).

    In production (DEBUG off) refused while BANK_ACCOUNT_NO is unset: a guest would be sent to pay with a
    transfer link that names no account.
    """
    if not settings.DEBUG and not settings.BANK_ACCOUNT_NO:
        raise DomainError(
            "선결제 계좌가 설정되지 않아 지금은 선결제를 받을 수 없습니다. 직원에게 문의해 주세요.",
            code="bank_account_not_configured",
            status=503,
        )

    def place() -> Order:
        now = timezone.now()
        with transaction.atomic():
            table = table_for_order(table_id=table_id)
            # Stock and total are checked first, so a wrong total is amount_mismatch whatever else is pending.
            order = order_create_locked(
                table=table,
                quantities=quantities,
                status=OrderStatus.PRE_ORDER,
                payer_name=payer_name,
                expected_total=total_amount,
                expires_at=now + timedelta(minutes=settings.PRE_ORDER_TTL_MINUTES),
                client_key=client_key,
            )
            try:
                with transaction.atomic():  # the unique key decides, even between racing requests
                    Order.objects.filter(pk=order.pk).update(pending_match_key=_match_key(payer_name, total_amount))
            except IntegrityError:
                raise _payer_name_in_use() from None
            if settings.PAYACTION_API_KEY:
                PayActionRegistration.objects.create(order=order)
            events.order_created(order)
            if cart_version is not None:
                cart_ordered(table=table, version=cart_version, quantities=quantities)
        return order

    return order_create_once(
        place,
        client_key=client_key,
        table_id=table_id,
        quantities=quantities,
        payer_name=payer_name,
        total_amount=total_amount,
    )


def _payer_name_in_use() -> Conflict:
    return Conflict(
        "같은 입금자명과 금액의 결제 대기 주문이 이미 있습니다. 입금자명을 조금 바꿔 주세요 (예: 홍길동A).",
        code="payer_name_in_use",
    )


def _complete(order: Order, *, now: datetime) -> Order:
    """Mark a locked pre-order (or revived expired one) paid and announce it.

    A paid order is a ticket on the kitchen board, even one that a reset took off its table's tab while it
    waited for its payment; it stays in that ended session, off the next guests' tab and total.
    """
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.COMPLETED, paid_at=now, pending_match_key=None)
    OrderItem.objects.filter(order_id=order.pk).update(paid_at=now)
    order = order_get(order_id=order.pk)
    events.order_paid(order)  # the Discord alert follows from the outbox (status completed)
    logger.info("order paid", extra={"order_id": str(order.pk), "order_number": order.order_number})
    return order


def _revive(order: Order, *, now: datetime) -> Order | None:
    """Pay an expired pre-order if its stock can be taken again; None if it cannot."""
    quantities = {item.food_id: item.quantity for item in order.items.all()}
    try:
        with transaction.atomic():
            stock_reserve(quantities=quantities)
    except Conflict:
        return None
    return _complete(order, now=now)


@transaction.atomic
def pre_orders_expire(*, now: datetime | None = None) -> int:
    """Cancel unpaid pre-orders past expires_at and give their stock back."""
    now = now or timezone.now()
    orders = list(
        Order.objects.select_for_update(skip_locked=True)
        .filter(status=OrderStatus.PRE_ORDER, expires_at__lte=now)
        .order_by("pk")[:200]
    )
    if not orders:
        return 0
    pks = [order.pk for order in orders]
    # Its Idempotency-Key let go: the guest's page sending it again (much later) orders anew, not a dead order.
    Order.objects.filter(pk__in=pks).update(status=OrderStatus.CANCELLED, pending_match_key=None, client_key=None)
    released = dict(
        OrderItem.objects.filter(order_id__in=pks)
        .values("food_id")
        .annotate(n=Sum("quantity"))
        .values_list("food_id", "n")
    )
    stock_release(quantities=released)
    for order in with_lines(Order.objects.filter(pk__in=pks).order_by("pk")):
        events.order_updated(order)
    logger.info("pre-orders expired", extra={"count": len(orders), "order_ids": [str(pk) for pk in pks]})
    return len(orders)


# --- PayAction deliveries ---------------------------------------------------------------------------


class WebhookBodyUnreadable(DomainError):
    code = "invalid_body"
    detail = "웹훅 본문을 읽을 수 없습니다."


# What both databases store (MariaDB DATETIME: years 1000 to 9999), a day inside so any offset still fits.
EARLIEST_DATE = datetime(1000, 1, 2, tzinfo=UTC)
LATEST_DATE = datetime(9999, 12, 30, tzinfo=UTC)


def parse_payaction_date(value) -> datetime | None:
    """Lenient: with or without offset, 'T' or a space, fractions; no offset means Asia/Seoul.

    None for anything else, an impossible date (month 13, 2026-02-30) or one out of range (year 0, 99999)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1).replace("Z", "+00:00")
    try:
        parsed = parse_datetime(text) or datetime.fromisoformat(text)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        in_range = EARLIEST_DATE <= parsed.astimezone(UTC) <= LATEST_DATE
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01 in Seoul is year 0 in UTC
        return None
    return parsed if in_range else None


MAX_AMOUNT = 10**12  # won; anything larger is not a payment of ours, and would not fit the column


def _int_amount(value) -> int | None:
    """The amount as a whole number of won, or None when it is unusable (stored, never matched)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    # isdecimal, not isdigit: int() refuses "²"; the length keeps int() under its digit limit
    if isinstance(value, str) and value.strip().removeprefix("-").isdecimal() and len(value.strip()) <= 20:
        value = int(value.strip())
    if isinstance(value, int) and -MAX_AMOUNT <= value <= MAX_AMOUNT:
        return value
    return None


def _readable(value) -> str:
    """A text field as the databases hold it: lone surrogates become U+FFFD; a whole number, its digits."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _delivery_key(trace_id: str | None, raw_body: bytes) -> str:
    """A delivery's idempotency key: its trace id, compared exactly (MariaDB's binary collation still ignores
    trailing spaces: they are stripped). One longer than the column is kept as its hash, never cut: two ids
    that differ only past the cut are two deliveries. Without one, the hash of the body."""
    trace_id = (trace_id or "").strip()
    if not trace_id:
        return "sha256:" + hashlib.sha256(raw_body).hexdigest()
    if len(trace_id) > TRACE_ID_MAX_LENGTH:
        return "trace-sha256:" + hashlib.sha256(trace_id.encode("utf-8", "surrogatepass")).hexdigest()
    return trace_id


def payment_event_handle(*, raw_body: bytes, trace_id: str | None) -> PaymentEvent:
    """Store and process one PayAction delivery. A replay of a trace id changes nothing."""
    trace_id = _delivery_key(trace_id, raw_body)
    try:
        text, body = payaction.delivery_read(raw_body)
    except ValueError:
        raise WebhookBodyUnreadable() from None
    existing = PaymentEvent.objects.filter(trace_id=trace_id).first()
    if existing is not None:
        return existing
    raw = payaction.delivery_stored(text, body)
    if not isinstance(body, dict):
        body = {}  # JSON, but not a notice of anything: stored as ignored, like any unusable delivery
    try:
        with transaction.atomic():
            return _payment_event_process(trace_id=trace_id, body=body, raw=raw)
    except IntegrityError:
        # A racing delivery of the same trace id won the insert and did the work.
        existing = PaymentEvent.objects.filter(trace_id=trace_id).first()
        if existing is None:
            raise
        return existing


def _payment_event_process(*, trace_id: str, body: dict, raw: dict) -> PaymentEvent:
    # The event row goes in first: its unique trace id serialises racing deliveries of one payment.
    event = PaymentEvent.objects.create(
        trace_id=trace_id, kind=PaymentEvent.Kind.UNKNOWN, outcome=Outcome.IGNORED, raw=raw
    )
    now = timezone.now()
    if "order_number" in body and "transaction_type" not in body:
        event.kind = PaymentEvent.Kind.MATCH
        event.order_number = _readable(body.get("order_number"))[:40]
        event.transaction_at = parse_payaction_date(body.get("processing_date"))
        if body.get("order_status") == "매칭완료":
            _match_notice(event, now=now)
    elif body.get("transaction_type") in ("deposited", "withdrawn"):
        name = body.get("transaction_name")
        event.transaction_name = _readable(name)[:100]
        event.amount = _int_amount(body.get("amount"))
        event.transaction_at = parse_payaction_date(body.get("transaction_date")) or parse_payaction_date(
            body.get("processing_date")
        )
        if body["transaction_type"] == "withdrawn":
            event.kind = PaymentEvent.Kind.WITHDRAWAL
        else:
            event.kind = PaymentEvent.Kind.DEPOSIT
            # Money may have come whatever could not be read of it (no name, an amount that is not whole won,
            # a name with a lone surrogate, which is no one's): no order takes it, and a person looks.
            event.outcome = Outcome.UNMATCHED
            if event.amount is not None and event.amount > 0 and event.transaction_name and _readable(name) == name:
                _deposit(event, now=now)
    event.save()
    payment_events.payment_received(event)
    logger.info(
        "payment event",
        extra={
            "trace_id": trace_id,
            "kind": event.kind,
            "outcome": event.outcome,
            "order_id": str(event.order_id or ""),
        },
    )
    return event


def _match_notice(event: PaymentEvent, *, now: datetime) -> None:
    order = Order.objects.select_for_update().filter(order_number=event.order_number).first()
    if order is None:
        event.outcome = Outcome.UNMATCHED
        return
    event.order = order
    if order.status == OrderStatus.PRE_ORDER:
        _complete(order, now=now)
        event.outcome = Outcome.MATCHED
    elif order.status == OrderStatus.COMPLETED:
        event.outcome = Outcome.DUPLICATE
    else:
        event.outcome = Outcome.MATCHED if _revive(order, now=now) else Outcome.NEEDS_REFUND


def _deposit(event: PaymentEvent, *, now: datetime) -> None:
    # In the form pre-orders keep their payer's name (NFC): a bank may send the same name decomposed.
    name, amount = unicodedata.normalize("NFC", event.transaction_name.strip()), event.amount
    # Locked in primary-key order; a racing deposit waits here and then sees the order already paid.
    pending = list(
        Order.objects.select_for_update()
        .filter(status=OrderStatus.PRE_ORDER, payer_name=name, total_amount=amount)
        .order_by("pk")[:2]
    )
    if len(pending) == 1:
        event.order = pending[0]
        _complete(pending[0], now=now)
        event.outcome = Outcome.MATCHED
        return
    if len(pending) > 1:
        event.outcome = Outcome.AMBIGUOUS  # never guessed: staff match it by hand
        return
    expired = list(
        Order.objects.select_for_update()
        .filter(
            status=OrderStatus.CANCELLED,
            payer_name=name,
            total_amount=amount,
            expires_at__gte=now - REVIVE_WINDOW,
        )
        .order_by("pk")[:2]
    )
    if len(expired) == 1:
        event.order = expired[0]
        event.outcome = Outcome.MATCHED if _revive(expired[0], now=now) else Outcome.NEEDS_REFUND
    elif len(expired) > 1:
        event.outcome = Outcome.AMBIGUOUS
    else:
        event.outcome = Outcome.UNMATCHED


# --- staff actions ----------------------------------------------------------------------------------


@transaction.atomic
def order_confirm_payment(*, order_id, by=None) -> Order:
    """Staff confirm a pre-order paid (cash, or a deposit that never came through).

    An expired one is revived when its stock is still there: the customer paid, the timer ran out.
    """
    order = order_locked(order_id=order_id)
    now = timezone.now()
    if order.status == OrderStatus.CANCELLED:
        revived = _revive(order, now=now)
        if revived is None:
            raise Conflict("만료된 주문의 메뉴가 품절되어 되살릴 수 없습니다. 환불해 주세요.", code="sold_out")
        audit.record(by, "confirm_payment", order.order_number, order_id=str(order.pk), revived=True)
        _deposits_now_paying(revived, now=now)
        return revived
    if order.status != OrderStatus.PRE_ORDER:
        raise Conflict("결제 대기 중인 선주문이 아닙니다.", code="not_pre_order", order_status=order.status)
    audit.record(by, "confirm_payment", order.order_number, order_id=str(order.pk))
    return _complete(order, now=now)


def _deposits_now_paying(order: Order, *, now: datetime) -> None:
    """An expired order revived by staff: a payment that came for it and was to be given back (needs_refund,
    no stock then) pays it now, and leaves the list of money to return."""
    events = list(
        PaymentEvent.objects.select_for_update().filter(
            order=order, outcome=Outcome.NEEDS_REFUND, resolved_at__isnull=True
        )
    )
    for event in events:
        event.outcome, event.resolved_at = Outcome.MATCHED, now
        event.save(update_fields=["outcome", "resolved_at"])
        payment_events.payment_resolved(event)


@transaction.atomic
def payment_event_match(*, event_id, order_id, by=None) -> Order:
    """Staff attach an unmatched or ambiguous deposit to a pending pre-order of the same amount."""
    event = payment_event_get(event_id=event_id, lock=True)
    if event.kind != PaymentEvent.Kind.DEPOSIT or event.outcome not in (Outcome.UNMATCHED, Outcome.AMBIGUOUS):
        raise Conflict("매칭할 수 없는 입금 알림입니다 (이미 처리됨).", code="payment_not_matchable")
    order = order_locked(order_id=order_id)
    if order.status != OrderStatus.PRE_ORDER:
        raise Conflict("결제 대기 중인 선주문이 아닙니다.", code="not_pending")
    if order.total_amount != event.amount:
        raise Conflict(
            "입금액과 주문 금액이 다릅니다.",
            code="amount_differs",
            expected=order.total_amount,
            amount=event.amount,
        )
    order = _complete(order, now=timezone.now())
    event.outcome, event.order, event.resolved_at = Outcome.MATCHED, order, timezone.now()
    event.save(update_fields=["outcome", "order", "resolved_at"])
    payment_events.payment_resolved(event)
    audit.record(by, "payment_match", order.order_number, order_id=str(order.pk), payment_id=event.pk)
    return order


@transaction.atomic
def payment_event_resolve(*, event_id, note: str = "", by=None) -> PaymentEvent:
    """Staff mark a delivery that needed a person as dealt with: the money given back, or the order settled
    another way (confirmed by hand, a deposit no order can take). Its outcome stays, as what happened to the
    delivery; it leaves the staff screens' list. A second resolve keeps the first."""
    event = payment_event_get(event_id=event_id, lock=True)
    if event.outcome not in payment_events.ATTENTION:
        raise Conflict("처리할 필요가 없는 입금 알림입니다.", code="payment_not_open", outcome=event.outcome)
    if event.resolved_at is None:
        event.resolved_at = timezone.now()
        event.save(update_fields=["resolved_at"])
        audit.record(
            by, "payment_resolve", event.transaction_name or event.order_number, payment_id=event.pk, note=note
        )
        payment_events.payment_resolved(event)
    return event


@transaction.atomic
def order_refund(*, order_id, quantities: dict[int, int], reason: str, by=None) -> Order:
    """Refund quantities of a paid order's lines (partial or full). Stock is not given back."""
    order = order_locked(order_id=order_id)
    if order.status != OrderStatus.COMPLETED:
        raise Conflict("결제가 끝난 주문만 환불할 수 있습니다.", code="not_paid")
    ordered = {item.food_id: item for item in order.items.all()}
    refunded = order.refunded_by_food()
    over = sorted(
        food_id
        for food_id, quantity in quantities.items()
        if food_id not in ordered or quantity > ordered[food_id].quantity - refunded.get(food_id, 0)
    )
    if over:
        raise DomainError("주문한 수량보다 많이 환불할 수 없습니다.", code="over_refund", food_ids=over)
    amount = 0
    for food_id, quantity in sorted(quantities.items()):
        item = ordered[food_id]
        line = item.unit_price * quantity
        amount += line
        Refund.objects.create(
            order=order,
            food_id=food_id,
            food_name=item.food_name,
            unit_price=item.unit_price,
            quantity=quantity,
            amount=line,
            reason=reason,
            station=item.station,
        )
    Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") + amount)
    audit.record(
        by,
        "refund",
        order.order_number,
        order_id=str(order.pk),
        amount=amount,
        reason=reason,
        quantities={str(food_id): quantity for food_id, quantity in quantities.items()},
    )
    order = order_get(order_id=order.pk)
    # A line refunded whole is nobody's to make: the ticket's status follows the lines left (served when
    # those are), so it leaves the boards that have nothing left of it.
    kitchen_status = order.kitchen_status_from_lines()
    if kitchen_status != order.kitchen_status:
        Order.objects.filter(pk=order.pk).update(kitchen_status=kitchen_status)
        order.kitchen_status = kitchen_status
    events.order_updated(order)
    logger.info("order refunded", extra={"order_id": str(order.pk), "amount": amount})
    return order


# --- PayAction order registration ---------------------------------------------------------------------


def payaction_registrations_dispatch() -> int:
    if not settings.PAYACTION_API_KEY:
        return 0
    # Every pre-order is sent (CONTRACT.md section 6), also one already paid or expired by the time this runs:
    # PayAction can still match a late deposit to an expired one, which revives it.
    due = PayActionRegistration.objects.select_related("order")

    def send(registration: PayActionRegistration):
        return payaction.register_order(registration.order)

    return outbox.dispatch(queryset=due, prefix="", done_field="done", send=send)
