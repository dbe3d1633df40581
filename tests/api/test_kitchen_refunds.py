"""A refunded line on the kitchen and bar boards (CONTRACT.md sections 3 and 4): a line refunded whole is
nobody's to make. It leaves its station's board, the tickets' status follows the lines left, and a table whose
remaining lines are served has no open ticket. A partly refunded line stays, with what is left of it."""

import pytest

from ordering.models import OrderItem
from tests.api.factories import OrderFactory
from tests.api.helpers import assert_error
from tests.factories import FoodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cola(db):
    return FoodFactory(name="콜라", category="drinks", station="bar", price=2000)


@pytest.fixture
def mixed(table, food, cola):
    """김치전-like food x1 at the kitchen, 콜라 x3 at the bar, paid."""
    return OrderFactory(table=table, lines=[(food, 1), (cola, 3)])


def board(staff_api, station: str | None = None) -> list[str]:
    response = staff_api.get("/api/kitchen/orders/" + (f"?station={station}" if station else ""))
    assert response.status_code == 200
    return [order["id"] for order in response.json()]


def refund(staff_api, order, food, quantity: int):
    response = staff_api.post(
        f"/api/orders/{order.pk}/refunds/",
        {"items": [{"food_id": food.pk, "quantity": quantity}], "reason": "품절"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def move(staff_api, order, kitchen_status: str, station: str | None = None):
    body = {"kitchen_status": kitchen_status, **({"station": station} if station else {})}
    return staff_api.patch(f"/api/orders/{order.pk}/kitchen-status/", body, format="json")


def serve(staff_api, order, station: str | None = None):
    assert move(staff_api, order, "cooking", station).status_code == 200
    return move(staff_api, order, "served", station)


def test_a_stations_part_refunded_whole_leaves_its_board_only(staff_api, mixed, cola):
    refund(staff_api, mixed, cola, 3)

    assert board(staff_api, "bar") == []
    assert board(staff_api, "kitchen") == board(staff_api) == [str(mixed.pk)]
    assert_error(move(staff_api, mixed, "cooking", "bar"), 409, "invalid_transition")


def test_a_partly_refunded_line_stays_on_its_board(staff_api, mixed, cola):
    refund(staff_api, mixed, cola, 2)

    assert board(staff_api, "bar") == [str(mixed.pk)]
    assert move(staff_api, mixed, "cooking", "bar").status_code == 200


def test_the_ticket_is_served_when_the_lines_left_are(staff_api, table, mixed, food, cola):
    refund(staff_api, mixed, cola, 3)

    served = serve(staff_api, mixed, "kitchen")

    assert served.status_code == 200 and served.json()["kitchen_status"] == "served"
    assert board(staff_api) == board(staff_api, "kitchen") == []
    assert {line.station: line.kitchen_status for line in OrderItem.objects.filter(order=mixed)} == {
        "kitchen": "served",
        "bar": "queued",  # never made: refunded
    }
    reset = staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")  # no force needed: nothing unserved
    assert reset.status_code == 200, reset.content


def test_refunding_the_last_unserved_line_serves_the_ticket(staff_api, mixed, cola):
    assert serve(staff_api, mixed, "kitchen").status_code == 200
    assert board(staff_api) == [str(mixed.pk)]  # the bar's part is still to pour

    answer = refund(staff_api, mixed, cola, 3)

    assert answer["kitchen_status"] == "served"
    assert board(staff_api) == board(staff_api, "bar") == []


def test_a_recall_leaves_a_line_refunded_whole_alone(staff_api, mixed, cola):
    refund(staff_api, mixed, cola, 3)
    assert serve(staff_api, mixed).status_code == 200

    recalled = move(staff_api, mixed, "cooking")

    assert recalled.status_code == 200 and recalled.json()["kitchen_status"] == "cooking"
    assert {line.station: line.kitchen_status for line in OrderItem.objects.filter(order=mixed)} == {
        "kitchen": "cooking",
        "bar": "queued",
    }
    assert board(staff_api, "bar") == []
