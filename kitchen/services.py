"""Writes of the kitchen: ticket status, staff calls, and the Discord outboxes."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from background import outbox
from core import audit
from core.idempotency import create_once
from kitchen import discord, logins
from kitchen import events as kitchen_events
from kitchen.models import StaffCall
from kitchen.selectors import staff_call_by_client_key
from ordering import events
from ordering.errors import Conflict, DomainError, NotFound
from ordering.models import KitchenStatus, Order, OrderItem, OrderStatus, Station, kitchen_status_of, ticket_tenths
from ordering.selectors import order_get, order_locked, parse_int_id, table_row
from ordering.services import key_reused

TRANSITIONS = {
    (KitchenStatus.QUEUED, KitchenStatus.COOKING),
    (KitchenStatus.COOKING, KitchenStatus.SERVED),
    (KitchenStatus.SERVED, KitchenStatus.COOKING),  # recall
}
# Alerts older than this are not sent when alerts are switched on later (no flood of old orders).
ALERT_WINDOW = timedelta(hours=6)


def staff_token_issue(*, request, username: str, password: str) -> str:
    """The API token of a staff member's username and password, within the failed-login limits (logins)."""
    address = request.META.get("REMOTE_ADDR", "")
    logins.check(address, username)  # before hashing: a blocked guess costs nothing
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        logins.failed(address, username)
        raise DomainError("아이디 또는 비밀번호가 올바르지 않습니다.", code="invalid_credentials")
    logins.succeeded(username)
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


@transaction.atomic
def order_kitchen_status_set(
    *, order_id, kitchen_status: str, station: str | None = None, from_status: str | None = None, by=None
) -> Order:
    """Move a ticket's lines: all of them, or with `station` only that station's (the bar pours, the kitchen
    cooks). The order's own status follows from its lines. The order row is locked first, so two stations
    finishing their halves at once end `served` exactly once. With `from_status` (what the tapping screen
    showed), a tap made on a stale screen is refused: a queued start sent after another screen served the
    ticket would otherwise recall it."""
    order = order_locked(order_id=order_id)
    if order.status != OrderStatus.COMPLETED:
        raise Conflict("결제가 끝난 주문만 조리할 수 있습니다.", code="not_paid")
    order.attached_lines, order.attached_refunds = list(order.items.all()), list(order.refunds.all())
    moving = [line for line in order.lines_to_make() if station is None or line.station == station]
    if not moving:
        raise Conflict(
            f"이 주문에는 만들 {Station(station).label + ' ' if station else ''}메뉴가 없습니다 (없거나 모두 환불됨).",
            code="invalid_transition",
            station=station,
        )
    current = kitchen_status_of(line.kitchen_status for line in moving)
    if from_status is not None and current != from_status:
        raise Conflict(
            f"다른 화면에서 이미 '{KitchenStatus(current).label}'(으)로 바뀌었습니다.",
            code="invalid_transition",
            kitchen_status=current,
        )
    if (current, kitchen_status) not in TRANSITIONS:
        raise Conflict(
            f"'{KitchenStatus(current).label}'에서 '{KitchenStatus(kitchen_status).label}'(으)로 바꿀 수 없습니다.",
            code="invalid_transition",
            kitchen_status=current,
        )
    now = timezone.now()
    for line in moving:
        line.kitchen_status = kitchen_status
        line.served_at = now if kitchen_status == KitchenStatus.SERVED else None
        line.ticket_tenths = ticket_tenths(order.paid_at, now) if kitchen_status == KitchenStatus.SERVED else None
        line.paid_at = order.paid_at  # the same; set again for a line an older release wrote without it
        if kitchen_status == KitchenStatus.COOKING and line.started_at is None:
            line.started_at = now  # the first start; a recall keeps it
    OrderItem.objects.bulk_update(moving, ["kitchen_status", "started_at", "served_at", "ticket_tenths", "paid_at"])
    order.kitchen_status = order.kitchen_status_from_lines()
    order.save(update_fields=["kitchen_status"])
    audit.record(
        by, "kitchen_status", order.order_number, order_id=str(order.pk), kitchen_status=kitchen_status, station=station
    )
    order = order_get(order_id=order.pk)
    events.order_updated(order)
    return order


def staff_call(*, table_id, message: str = "", client_key: str | None = None) -> StaffCall:
    """A customer's call: stored, every call its own, shown on every staff screen until acknowledged.
    With `client_key`, made once: a phone that lost the answer calls again and gets the first call back."""

    table = table_row(table_id=table_id)

    @transaction.atomic
    def call() -> StaffCall:
        made = StaffCall.objects.create(table=table, message=message, client_key=client_key)
        kitchen_events.staff_called(made)
        return made

    if client_key is None:
        return call()
    return create_once(
        call,
        find=lambda: staff_call_by_client_key(client_key=client_key),
        matches=lambda made: made.table_id == table.pk and made.message == message,
        reused=key_reused,
    )


def call_not_found() -> NotFound:
    return NotFound("직원 호출을 찾을 수 없습니다.", code="call_not_found")


@transaction.atomic
def staff_call_ack(*, call_id, by=None) -> StaffCall:
    """Acknowledge a call; a second acknowledgement keeps the first one's who and when."""
    pk = parse_int_id(call_id, missing=call_not_found)
    call = StaffCall.objects.select_for_update().select_related("table", "acked_by").filter(pk=pk).first()
    if call is None:
        raise call_not_found()
    if call.acked_at is None:
        call.acked_at = timezone.now()
        call.acked_by = by if by is not None and by.is_authenticated else None
        call.save(update_fields=["acked_at", "acked_by"])
        audit.record(by, "staff_call_ack", call.table.name, call_id=call.pk)
        kitchen_events.staff_call_acked(call)
    return call


def discord_alerts_dispatch() -> int:
    """Send the alert of every completed order once (see background.outbox for the claim)."""
    if not settings.DISCORD_WEBHOOK_URL:
        return 0
    due = Order.objects.filter(status=OrderStatus.COMPLETED, paid_at__gte=timezone.now() - ALERT_WINDOW)

    return outbox.dispatch(
        # Each claimed order is read with its table, and its lines by the alert: two queries an alert.
        queryset=due.select_related("table"),
        prefix="discord_",
        done_field="discord_notified",
        send=discord.send_order_alert,
        service=settings.DISCORD_WEBHOOK_URL,  # a 429 holds the webhook, whichever outbox posts to it
    )


def staff_call_alerts_dispatch() -> int:
    webhook = discord.call_webhook_url()
    if not webhook:
        return 0
    due = StaffCall.objects.filter(created_at__gte=timezone.now() - ALERT_WINDOW).select_related("table")

    def send(call: StaffCall):
        return discord.send_staff_call_alert(call.table.name, call.message)

    return outbox.dispatch(queryset=due, prefix="", done_field="notified", send=send, service=webhook)
