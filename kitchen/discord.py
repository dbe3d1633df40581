"""The one seam to Discord: message shapes within Discord's limits, and the POST."""

import re

from django.conf import settings
from django.utils import timezone

from background.outbox import Delivery, post_json
from ordering.models import Order

FIELD_LIMIT = 1024
ORDER_COLOR = 0x2ECC71
# What a customer writes (a staff call, a payer name) never pings anyone and never formats the message.
NO_MENTIONS = {"parse": []}
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<@:-])")


def escaped(text: str) -> str:
    """Discord markdown and mention syntax shown as typed (each special character escaped)."""
    return _MARKDOWN.sub(r"\\\1", text)


def _clip(text: str, limit: int = FIELD_LIMIT) -> str:
    text = text or "-"  # Discord refuses empty field values
    return text if len(text) <= limit else text[: limit - 1] + "…"


def order_alert(order: Order) -> dict:
    lines = "\n".join(f"{item.food_name} x{item.quantity}" for item in order.items.all())
    when = order.paid_at or order.order_date
    return {
        "username": "주문알리미",
        "allowed_mentions": NO_MENTIONS,
        "embeds": [
            {
                "title": _clip(f"새 주문 · {order.table.name}", 256),
                "color": ORDER_COLOR,
                "fields": [
                    {"name": "주문번호", "value": _clip(order.order_number), "inline": True},
                    {"name": "입금자", "value": _clip(escaped(order.payer_name) or "현장 주문"), "inline": True},
                    {"name": "테이블", "value": _clip(order.table.name), "inline": True},
                    {"name": "금액", "value": f"{order.total_amount:,}원", "inline": True},
                    {"name": "메뉴", "value": _clip(lines), "inline": False},
                ],
                "timestamp": timezone.localtime(when).isoformat(),
            }
        ],
    }


def staff_call_alert(table_name: str, message: str) -> dict:
    text = f"🔔 {escaped(table_name)} 테이블에서 직원을 호출했습니다."
    if message:
        text += "\n> " + escaped(message).replace("\n", "\n> ")  # every line of it stays in the quote
    return {"username": "직원호출", "content": text[:2000], "allowed_mentions": NO_MENTIONS}


def send_order_alert(order: Order) -> Delivery:
    return post_json(settings.DISCORD_WEBHOOK_URL, order_alert(order))


def call_webhook_url() -> str:
    """Staff calls go to DISCORD_CALL_WEBHOOK_URL, else to the order webhook (CONTRACT.md section 1)."""
    return settings.DISCORD_CALL_WEBHOOK_URL or settings.DISCORD_WEBHOOK_URL


def send_staff_call_alert(table_name: str, message: str) -> Delivery:
    return post_json(call_webhook_url(), staff_call_alert(table_name, message))
