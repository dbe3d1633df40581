"""Constant queries per request, whatever the size of the menu and the history (LESSONS.md: the old app
slowed down as orders piled up). Each count is asserted exactly, at two data sizes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.factories import OrderFactory, RefundFactory
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db

SIZES = [1, 30]
SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@pytest.fixture(params=SIZES, ids=lambda n: f"{n}-orders")
def orders_on_table(request, table):
    """n orders of two lines each on the table (one of them refunded), and n on another table."""
    foods = FoodFactory.create_batch(2)
    other = TableFactory()
    for i in range(request.param):
        order = OrderFactory(table=table, lines=[(foods[0], 1), (foods[1], 2)])
        OrderFactory(table=other, lines=[(foods[1], 1)])
        if i == 0:
            RefundFactory(order=order, food=foods[0])
    return request.param


def test_menu_queries(api, orders_on_table, django_assert_num_queries):
    FoodFactory.create_batch(orders_on_table)

    with django_assert_num_queries(1):
        response = api.get("/api/foods/")

    assert len(response.json()) == 2 + orders_on_table


def test_tab_queries(api, table, orders_on_table, django_assert_num_queries):
    # table, orders with their table, items, refunds (the total spent is summed from them)
    with django_assert_num_queries(4):
        response = api.get(f"/api/tables/{table.pk}/orders/")

    assert len(response.json()["orders"]) == orders_on_table


def test_history_queries(staff_api, orders_on_table, django_assert_num_queries):
    # token, count, total spent, page with tables, items, refunds
    with django_assert_num_queries(6):
        response = staff_api.get("/api/orders/history/")

    assert response.json()["count"] == 2 * orders_on_table


def test_history_of_a_table_queries(staff_api, table, orders_on_table, django_assert_num_queries):
    with django_assert_num_queries(6):
        response = staff_api.get("/api/orders/history/", {"table_id": str(table.pk)})

    assert response.json()["count"] == orders_on_table


def test_kitchen_board_queries(staff_api, orders_on_table, django_assert_num_queries):
    with django_assert_num_queries(4):
        response = staff_api.get("/api/kitchen/orders/")

    assert len(response.json()) == 2 * orders_on_table


def test_order_queries(api, table, orders_on_table, django_assert_num_queries):
    food = FoodFactory(stock=100)
    plain = FoodFactory()
    body = {
        "table_id": str(table.pk),
        "items": [{"food_id": food.pk, "quantity": 1}, {"food_id": plain.pk, "quantity": 1}],
    }

    api.post("/api/orders/", body, format="json")  # the first: the feeds' rows are made
    # table, foods, lock of the counted one, its stock update, order, items, then the next seq of the table's
    # feed and the kitchen's (two statements for both); the answer and the event are rendered from what was
    # written, not read back; savepoints are not counted
    with CaptureQueriesContext(connection) as queries:
        response = api.post("/api/orders/", body, format="json")

    assert response.status_code == 201
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].upper().startswith(SAVEPOINTS)]
    assert len(statements) == 8, statements
