"""The night-report migration gives lines written before it their order's payment time."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.services.migrations import back_to_the_latest_schema, migrate  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_old_lines_take_their_order_payment_time():
    old = migrate([("ordering", "0002_front_of_house")])
    Food, Table, Order, OrderItem = (old.get_model("ordering", m) for m in ("Food", "Table", "Order", "OrderItem"))
    table = Table.objects.create(name="Z9")
    paid_at = datetime(2026, 11, 28, 11, 30, tzinfo=UTC)
    paid = Order.objects.create(order_number="P1", table=table, total_amount=12000, status="completed", paid_at=paid_at)
    waiting = Order.objects.create(order_number="P2", table=table, total_amount=12000, status="pre_order")
    served_at = paid_at + timedelta(minutes=12, seconds=3, milliseconds=460)
    for order, served in [(paid, served_at), (paid, None), (waiting, None)]:
        OrderItem.objects.create(
            order=order,
            food=Food.objects.create(name="김치전", price=12000, category="menu"),
            food_name="김치전",
            unit_price=12000,
            quantity=1,
            served_at=served,
        )

    new = migrate([("ordering", "0003_night_report_lines")])

    lines = new.get_model("ordering", "OrderItem").objects.order_by("id")
    assert list(lines.values_list("order__order_number", "paid_at", "ticket_tenths")) == [
        ("P1", paid_at, 7235),
        ("P1", paid_at, None),
        ("P2", None, None),
    ]
