"""The one seam to PayAction: webhook authentication and order registration."""

import hmac

import requests
from django.conf import settings
from django.utils import timezone

from core.outbox import Delivery, post_json
from ordering.models import Order


def webhook_key_valid(key: str | None, mall_id: str | None) -> bool:
    key_ok = hmac.compare_digest((key or "").encode(), settings.PAYACTION_WEBHOOK_KEY.encode())
    mall_ok = not settings.PAYACTION_MALL_ID or hmac.compare_digest(
        (mall_id or "").encode(), settings.PAYACTION_MALL_ID.encode()
    )
    return key_ok and mall_ok


def registration_body(order: Order) -> dict:
    return {
        "order_number": order.order_number,
        "order_amount": order.total_amount,
        "order_date": timezone.localtime(order.order_date).isoformat(timespec="seconds"),
        "billing_name": order.payer_name,
        "orderer_name": order.payer_name,
    }


def _accepted(response: requests.Response) -> bool:
    """PayAction can answer 200 with {"status": "error", ...}: that order was not registered."""
    try:
        body = response.json()
    except ValueError:
        return True  # an empty or non-JSON 2xx: nothing says it failed
    return not (isinstance(body, dict) and body.get("status") == "error")


def register_order(order: Order) -> Delivery:
    return post_json(
        f"{settings.PAYACTION_API_URL}/order",
        registration_body(order),
        headers={"x-api-key": settings.PAYACTION_API_KEY, "x-mall-id": settings.PAYACTION_MALL_ID},
        accept=_accepted,
    )
