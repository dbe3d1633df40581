"""An order reads its table at most every TABLE_KEEP_SECONDS per process (ordering.selectors.table_for_order).

Tables are only renamed or deleted by hand in the admin: a rename reaches new orders within those seconds,
and an order for a table deleted meanwhile is a 404 that writes nothing, like any unknown table.
"""

import time

import pytest

from ordering import selectors
from ordering.errors import NotFound
from ordering.models import Food, Order, Table
from ordering.services import order_place
from payments.services import pre_order_create
from tests.api.helpers import assert_error
from tests.api.support import db_state
from tests.factories import FoodFactory, TableFactory


def order(api, table, food):
    return api.post(
        "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}, format="json"
    )


@pytest.mark.django_db
def test_a_tables_next_order_does_not_read_the_table_again(api, table, food, django_assert_num_queries):
    # the table, the foods, the order, its items, savepoints (2)
    with django_assert_num_queries(6):
        assert order(api, table, food).status_code == 201
    with django_assert_num_queries(5):
        assert order(api, table, food).status_code == 201


@pytest.mark.django_db
def test_a_renamed_table_reaches_new_orders_once_its_seconds_pass(api, table, food, monkeypatch):
    monkeypatch.setattr(selectors, "TABLE_KEEP_SECONDS", 0.3)
    first = order(api, table, food).json()
    Table.objects.filter(pk=table.pk).update(name="바뀐이름")

    kept = order(api, table, food).json()
    time.sleep(0.35)
    later = order(api, table, food).json()

    assert first["table_name"] == kept["table_name"] == table.name
    assert later["table_name"] == "바뀐이름"


def place_direct(table, food):
    return order_place(table_id=table.pk, quantities={food.pk: 1})


def place_pre_order(table, food):
    return pre_order_create(table_id=table.pk, payer_name="홍길동", total_amount=food.price, quantities={food.pk: 1})


# Committed transactions: SQLite checks foreign keys only when a transaction commits. (The pre-order API
# reads the table with its tab before validating, so the service is called here.)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("place", [place_direct, place_pre_order], ids=["direct", "pre-order"])
def test_an_order_for_a_table_deleted_while_kept_is_table_not_found_and_writes_nothing(place):
    table, food = TableFactory(), FoodFactory(stock=5)
    selectors.table_for_order(table_id=table.pk)  # kept by this process
    Table.objects.filter(pk=table.pk).delete()
    before = db_state()

    with pytest.raises(NotFound) as refused:
        place(table, food)

    assert refused.value.code == "table_not_found"
    assert db_state() == before
    assert Food.objects.get(pk=food.pk).stock == 5
    assert not Order.objects.exists()
    assert table.pk not in selectors._tables_kept  # forgotten: the next order is refused by the read


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_an_order_for_a_table_deleted_while_kept_with_404(api):
    table, food = TableFactory(), FoodFactory()
    selectors.table_for_order(table_id=table.pk)
    Table.objects.filter(pk=table.pk).delete()

    assert_error(order(api, table, food), 404, "table_not_found")
    assert not Order.objects.exists()
