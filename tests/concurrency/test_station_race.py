"""The kitchen and the bar finishing their halves of one ticket at the same instant (real threads; on MariaDB
the order row is locked with SELECT ... FOR UPDATE). The ticket ends `served` exactly once."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ordering.events import GROUP_KITCHEN
from ordering.models import Category, Order
from ordering.services import order_place
from tests.api.support import IN_MEMORY_LAYER, EventRecorder
from tests.concurrency.threads import race
from tests.factories import FoodFactory, StaffFactory, TableFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

ROUNDS = 10


def test_two_stations_serving_the_halves_of_one_ticket_end_served_exactly_once(settings):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    table, dish, beer = TableFactory(), FoodFactory(), FoodFactory(category=Category.DRINKS)
    token = Token.objects.create(user=StaffFactory()).key
    orders = [order_place(table_id=table.pk, quantities={dish.pk: 1, beer.pk: 1}) for _ in range(ROUNDS)]
    for order in orders:
        for station in ("kitchen", "bar"):
            staff(token).patch(
                f"/api/orders/{order.pk}/kitchen-status/",
                {"kitchen_status": "cooking", "station": station},
                format="json",
            )
    board = EventRecorder().subscribe(GROUP_KITCHEN)

    for order in orders:
        results = race(2, lambda i, order=order: serve(token, order, ("kitchen", "bar")[i]))

        assert [status for status, _ in results] == [200, 200], results
        # Whichever came second saw the other's half served: exactly one answer says the whole order is.
        assert sorted(body["kitchen_status"] for _, body in results) == ["cooking", "served"]
        assert Order.objects.get(pk=order.pk).kitchen_status == "served"

    updates = [e for e in board.drain() if e["type"] == "order.updated"]
    served = [e["order"]["id"] for e in updates if e["order"]["kitchen_status"] == "served"]
    assert sorted(served) == sorted(str(order.pk) for order in orders)  # one `served` event per ticket
    assert len(updates) == 2 * ROUNDS


def staff(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def serve(token: str, order: Order, station: str):
    response = staff(token).patch(
        f"/api/orders/{order.pk}/kitchen-status/", {"kitchen_status": "served", "station": station}, format="json"
    )
    return response.status_code, response.json()
