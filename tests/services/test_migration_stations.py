"""The front-of-house migration gives orders placed before it their stations and line statuses."""

import pytest

from tests.services.migrations import back_to_the_latest_schema, migrate  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ordering", "0001_initial")]
AFTER = [("ordering", "0002_front_of_house")]


def test_old_lines_take_their_food_station_and_their_order_status():
    old = migrate(BEFORE)
    Food, Table, Order, OrderItem = (old.get_model("ordering", m) for m in ("Food", "Table", "Order", "OrderItem"))
    dish = Food.objects.create(name="김치전", price=12000, category="menu")
    beer = Food.objects.create(name="맥주", price=5000, category="drinks")
    table = Table.objects.create(name="Z9")
    cooking = Order.objects.create(order_number="P1", table=table, total_amount=17000, kitchen_status="cooking")
    served = Order.objects.create(order_number="P2", table=table, total_amount=5000, kitchen_status="served")
    for order, food in [(cooking, dish), (cooking, beer), (served, beer)]:
        OrderItem.objects.create(order=order, food=food, food_name=food.name, unit_price=food.price, quantity=1)

    new = migrate(AFTER)
    Food, OrderItem = new.get_model("ordering", "Food"), new.get_model("ordering", "OrderItem")

    assert dict(Food.objects.values_list("name", "station")) == {"김치전": "kitchen", "맥주": "bar"}
    lines = OrderItem.objects.order_by("id").values_list("order__order_number", "station", "kitchen_status")
    assert list(lines) == [("P1", "kitchen", "cooking"), ("P1", "bar", "cooking"), ("P2", "bar", "served")]
    assert new.get_model("ordering", "Table").objects.get(name="Z9").is_open is True
