"""config.inserts.insert_new writes the rows bulk_create writes, with its statement built once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config import inserts
from ordering.models import Order, OrderItem
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db

EXCLUDED = {"id", "order_number", "order_date"}  # unique per row, or the moment of the insert


def stored(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


def test_an_order_row_is_the_one_bulk_create_writes():
    table = TableFactory()
    paid = timezone.now() - timedelta(minutes=3)
    made = [Order(order_number=f"P0000000000000{n}", table=table, total_amount=12000, paid_at=paid) for n in (1, 2)]

    before = timezone.now()
    inserts.insert_new([made[0]])
    Order.objects.bulk_create([made[1]])

    ours, django = stored(Order, made[0].pk), stored(Order, made[1].pk)
    assert {k: v for k, v in ours.items() if k not in EXCLUDED} == {
        k: v for k, v in django.items() if k not in EXCLUDED
    }
    assert ours["order_number"] == "P00000000000001"
    assert ours["paid_at"] == paid
    assert before <= ours["order_date"] <= timezone.now()  # auto_now_add filled, as save() would
    assert made[0].order_date == ours["order_date"]
    assert not made[0]._state.adding


def test_lines_are_written_in_one_statement_with_database_made_keys(django_assert_num_queries):
    table, foods = TableFactory(), FoodFactory.create_batch(3)
    order = Order(order_number="P00000000000003", table=table, total_amount=3)
    inserts.insert_new([order])
    lines = [OrderItem(order=order, food=f, food_name=f.name, unit_price=1, quantity=1) for f in foods]

    with django_assert_num_queries(1):
        inserts.insert_new(lines)

    rows = list(OrderItem.objects.filter(order=order).order_by("id").values("food_id", "food_name", "unit_price"))
    assert rows == [{"food_id": f.pk, "food_name": f.name, "unit_price": 1} for f in foods]


def test_the_statement_is_built_once_per_model_and_row_count():
    table = TableFactory()
    inserts._statements.clear()
    for n in range(3):
        inserts.insert_new([Order(order_number=f"P1000000000000{n}", table=table, total_amount=1)])
    inserts.insert_new([Order(order_number=f"P200000000000{n}{n}", table=table, total_amount=1) for n in range(2)])

    assert sorted(count for model, count, _ in inserts._statements) == [1, 2]
    assert Order.objects.count() == 5
