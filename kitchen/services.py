"""Writes of the kitchen: ticket status, staff calls, and the Discord outboxes."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import outbox
from kitchen import discord
from kitchen.models import StaffCall
from ordering import events
from ordering.errors import Conflict
from ordering.models import KitchenStatus, Order, OrderStatus
from ordering.selectors import order_get, order_not_found, parse_uuid, table_get

TRANSITIONS = {
    (KitchenStatus.QUEUED, KitchenStatus.COOKING),
    (KitchenStatus.COOKING, KitchenStatus.SERVED),
    (KitchenStatus.SERVED, KitchenStatus.COOKING),  # recall
}
# Alerts older than this are not sent when alerts are switched on later (no flood of old orders).
ALERT_WINDOW = timedelta(hours=6)


@transaction.atomic
def order_kitchen_status_set(*, order_id, kitchen_status: str) -> Order:
    pk = parse_uuid(order_id, code="order_not_found", detail="주문을 찾을 수 없습니다.")
    order = Order.objects.select_for_update().filter(pk=pk).first()
    if order is None:
        raise order_not_found()
    if order.status != OrderStatus.COMPLETED:
        raise Conflict("결제가 끝난 주문만 조리할 수 있습니다.", code="not_paid")
    if (order.kitchen_status, kitchen_status) not in TRANSITIONS:
        raise Conflict(
            f"'{KitchenStatus(order.kitchen_status).label}'에서 '{KitchenStatus(kitchen_status).label}'(으)로 "
            "바꿀 수 없습니다.",
            code="invalid_transition",
            kitchen_status=order.kitchen_status,
        )
    order.kitchen_status = kitchen_status
    order.save(update_fields=["kitchen_status"])
    order = order_get(order_id=pk)
    events.order_updated(order)
    return order


@transaction.atomic
def staff_call(*, table_id, message: str = "") -> StaffCall:
    table = table_get(table_id=table_id)
    call = StaffCall.objects.create(table=table, message=message)
    events.staff_called(table, message)
    return call


def discord_alerts_dispatch() -> int:
    """Send the alert of every completed order once (see core.outbox for the claim)."""
    if not settings.DISCORD_WEBHOOK_URL:
        return 0
    due = Order.objects.filter(status=OrderStatus.COMPLETED, paid_at__gte=timezone.now() - ALERT_WINDOW)

    def send(order: Order):
        return discord.send_order_alert(order_get(order_id=order.pk))

    return outbox.dispatch(
        queryset=due,
        prefix="discord_",
        done_field="discord_notified",
        send=send,
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
