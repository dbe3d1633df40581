"""The same staff tap sent twice at once (a tablet's queue flushing while the first send is still in flight)
applies once: real threads, on MariaDB the second waits on the key's row."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import StaffAction
from kitchen.models import StaffCall
from ordering.models import Cart, Order
from ordering.services import order_place
from tests.concurrency.threads import race
from tests.factories import FoodFactory, StaffFactory, TableFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_the_same_key_sent_twice_at_once_applies_once():
    token = Token.objects.create(user=StaffFactory()).key
    order = order_place(table_id=TableFactory().pk, quantities={FoodFactory().pk: 1})

    def tap(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.patch(
            f"/api/orders/{order.pk}/kitchen-status/",
            {"kitchen_status": "cooking"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="tap-race",
        )
        return response.status_code, response.json()

    results = race(2, tap)

    assert [status for status, _ in results] == [200, 200], results
    assert results[0][1] == results[1][1]
    assert Order.objects.get(pk=order.pk).kitchen_status == "cooking"
    assert StaffAction.objects.filter(action="kitchen_status").count() == 1


@pytest.mark.parametrize("kind", ["order", "pre_order"])
@pytest.mark.parametrize("stock", [10, 3], ids=["stock left", "the last units"])
def test_a_guests_order_sent_twice_at_once_is_placed_once(kind, stock):
    """A phone's retry racing its first send (the first answer lost on the Wi-Fi): one order, stock taken once,
    and both sends answered with that order; also when the first takes the last units, so that the second,
    let in behind the first's food lock, finds the dish sold out."""
    table, food = TableFactory(), FoodFactory(stock=stock, price=5000)
    items = [{"food_id": food.pk, "quantity": 3}]
    if kind == "order":
        path, body, id_key = "/api/orders/", {"table_id": str(table.pk), "items": items}, "id"
    else:
        path, id_key = f"/api/orders/pre-order/{table.pk}/", "order_id"
        body = {"payer_name": "홍길동", "total_amount": 15000, "items": items}

    def send(_):
        response = APIClient().post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=f"phone-race-{kind}")
        return response.status_code, response.json()

    results = race(2, send)

    assert [status for status, _ in results] == [201, 201], results
    assert results[0][1][id_key] == results[1][1][id_key]
    assert Order.objects.count() == 1
    food.refresh_from_db()
    assert food.stock == stock - 3


def test_a_guests_call_sent_twice_at_once_is_one_call():
    table = TableFactory()

    def send(_):
        response = APIClient().post(
            f"/api/tables/{table.pk}/call-staff/", {"message": "물"}, format="json", HTTP_IDEMPOTENCY_KEY="call-race"
        )
        return response.status_code, response.json()

    results = race(2, send)

    assert [status for status, _ in results] == [202, 202], results
    assert results[0][1] == results[1][1]
    assert StaffCall.objects.count() == 1


def test_a_cart_write_sent_twice_at_once_is_applied_once():
    """Both sends name version 0: the second, waiting on the cart's lock, finds its key rather than a stale
    version, so the phone is told its write landed (200), not that another phone's did (409)."""
    table, food = TableFactory(), FoodFactory()

    def send(_):
        response = APIClient().put(
            f"/api/tables/{table.pk}/cart/",
            {"items": [{"food_id": food.pk, "quantity": 2}], "version": 0},
            format="json",
            HTTP_IDEMPOTENCY_KEY="cart-race",
        )
        return response.status_code, response.json()

    results = race(2, send)

    assert [status for status, _ in results] == [200, 200], results
    assert results[0][1] == results[1][1]
    assert Cart.objects.get(table=table).version == 1
