"""GET /api/orders/history/ (staff): every order, archived ones included, newest first."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ordering.models import OrderStatus
from tests.api.factories import OrderFactory, RefundFactory
from tests.api.helpers import assert_error, order_json
from tests.factories import TableFactory

pytestmark = pytest.mark.django_db

URL = "/api/orders/history/"


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


@pytest.fixture
def history(table, food):
    """Newest first: other table's order, cancelled, pre-order, refunded, archived."""
    archived = OrderFactory(table=table, lines=[(food, 1)], archived_at=ago(5), ordered_at=ago(50))
    refunded = OrderFactory(table=table, lines=[(food, 3)], ordered_at=ago(40))
    RefundFactory(order=refunded, food=food, quantity=2)
    pending = OrderFactory(table=table, status=OrderStatus.PRE_ORDER, payer_name="김철수", lines=[(food, 1)],
                           ordered_at=ago(30))  # fmt: skip
    cancelled = OrderFactory(table=table, status=OrderStatus.CANCELLED, lines=[(food, 2)], ordered_at=ago(20))
    other = OrderFactory(table=TableFactory(), lines=[(food, 4)], ordered_at=ago(10))
    return [other, cancelled, pending, refunded, archived]


def test_history_lists_every_order_newest_first(staff_api, history):
    response = staff_api.get(URL)

    assert response.status_code == 200
    # completed only: archived 12000 + refunded (36000 - 24000) + other table 48000
    assert response.json() == {
        "orders": [order_json(order) for order in history],
        "total_spent": 12000 + 12000 + 48000,
        "count": 5,
    }


def test_history_of_one_table(staff_api, table, history):
    response = staff_api.get(URL, {"table_id": str(table.pk)})

    assert response.status_code == 200
    assert response.json() == {
        "orders": [order_json(order) for order in history[1:]],
        "total_spent": 24000,
        "count": 4,
    }


def test_history_pages_with_limit_and_offset(staff_api, history):
    response = staff_api.get(URL, {"limit": 2, "offset": 1})

    assert response.status_code == 200
    body = response.json()
    assert [order["id"] for order in body["orders"]] == [str(history[1].pk), str(history[2].pk)]
    assert (body["count"], body["total_spent"]) == (5, 72000)


def test_history_offset_past_the_end_is_an_empty_page(staff_api, history):
    response = staff_api.get(URL, {"offset": 5})

    assert response.status_code == 200
    assert response.json() == {"orders": [], "total_spent": 72000, "count": 5}


def test_history_defaults_to_fifty_orders(staff_api, table, food):
    OrderFactory.create_batch(51, table=table, lines=[(food, 1)])

    body = staff_api.get(URL).json()

    assert (len(body["orders"]), body["count"]) == (50, 51)


def test_history_of_an_unknown_table_is_empty(staff_api, history):
    response = staff_api.get(URL, {"table_id": str(uuid.uuid4())})

    assert response.status_code == 200
    assert response.json() == {"orders": [], "total_spent": 0, "count": 0}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"offset": 10**25}, "offset"),
        ({"table_id": "not-a-uuid"}, "table_id"),
    ],
)
def test_history_with_a_bad_query_is_400(staff_api, history, query, field):
    response = staff_api.get(URL, query)

    body = assert_error(response, 400, "invalid")
    assert list(body["errors"]) == [field]


def test_history_with_the_largest_offset_is_an_empty_page(staff_api, history):
    response = staff_api.get(URL, {"offset": 2**63 - 1})

    assert response.status_code == 200
    assert response.json()["orders"] == []
