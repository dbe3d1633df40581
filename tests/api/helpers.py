"""Expected JSON shapes of CONTRACT.md section 3, built from rows."""

from django.utils import timezone

from ordering.models import Order, Table


def iso(value) -> str | None:
    """A datetime as the API renders it: ISO 8601 in Asia/Seoul, with its offset."""
    return None if value is None else timezone.localtime(value).isoformat()


def table_json(table: Table, total_spent: int = 0, is_open: bool = True) -> dict:
    return {
        "id": str(table.pk),
        "name": table.name,
        "created_at": iso(table.created_at),
        "total_spent": total_spent,
        "is_open": is_open,
    }


def order_json(order: Order) -> dict:
    order.refresh_from_db()
    return {
        "id": str(order.pk),
        "order_number": order.order_number,
        "table": str(order.table_id),
        "table_name": order.table.name,
        "status": order.status,
        "kitchen_status": order.kitchen_status,
        "payer_name": order.payer_name,
        "total_amount": order.total_amount,
        "refunded_amount": order.refunded_amount,
        "items": [
            {
                "food": {"id": item.food_id, "name": item.food_name, "price": item.unit_price},
                "quantity": item.quantity,
                "total_price": item.unit_price * item.quantity,
                "station": item.station,
                "kitchen_status": item.kitchen_status,
            }
            for item in order.items.order_by("id")
        ],
        "refunds": [
            {
                "food": {"id": refund.food_id, "name": refund.food_name, "price": refund.unit_price},
                "quantity": refund.quantity,
                "amount": refund.amount,
                "reason": refund.reason,
                "created_at": iso(refund.created_at),
            }
            for refund in order.refunds.order_by("id")
        ],
        "order_date": iso(order.order_date),
        "paid_at": iso(order.paid_at),
        "expires_at": iso(order.expires_at),
    }


def assert_error(response, status: int, code: str) -> dict:
    """The contract's error body: {"code", "detail", ...} with a message for a person."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body
