"""The kitchen board: GET /api/kitchen/orders/ and PATCH /api/orders/{id}/kitchen-status/ (staff)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ordering.models import KitchenStatus, Order, OrderItem, OrderStatus, ticket_tenths
from tests.api.factories import OrderFactory
from tests.api.helpers import assert_error, order_json
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def status_url(order) -> str:
    return f"/api/orders/{order.pk}/kitchen-status/"


# --- the board --------------------------------------------------------------------------------------


def test_board_shows_open_tickets_oldest_payment_first(staff_api, table, food):
    first = OrderFactory(table=table, lines=[(food, 1)], paid_at=ago(30), ordered_at=ago(30))
    cooking = OrderFactory(
        table=TableFactory(), lines=[(food, 2)], kitchen_status=KitchenStatus.COOKING, paid_at=ago(10),
        ordered_at=ago(10),
    )  # fmt: skip
    second = OrderFactory(table=table, lines=[(food, 3)], paid_at=ago(20), ordered_at=ago(20))
    # ordered long ago as a pre-order, paid just now: a ticket from its payment on
    paid_late = OrderFactory(table=table, lines=[(food, 1)], payer_name="이영희", paid_at=ago(5), ordered_at=ago(45))
    OrderFactory(table=table, lines=[(food, 1)], kitchen_status=KitchenStatus.SERVED, paid_at=ago(40))
    OrderFactory(table=table, lines=[(food, 1)], status=OrderStatus.PRE_ORDER, payer_name="박민수")
    OrderFactory(table=table, lines=[(food, 1)], status=OrderStatus.CANCELLED)
    OrderFactory(table=table, lines=[(food, 1)], archived_at=ago(1), paid_at=ago(50))

    response = staff_api.get("/api/kitchen/orders/")

    assert response.status_code == 200
    assert response.json() == [order_json(order) for order in (first, second, cooking, paid_late)]


def test_board_is_empty_without_tickets(staff_api):
    response = staff_api.get("/api/kitchen/orders/")

    assert response.status_code == 200
    assert response.json() == []


# --- status changes ---------------------------------------------------------------------------------


def test_ticket_goes_queued_cooking_served_and_back_on_recall(
    staff_api, table, food, events, django_capture_on_commit_callbacks
):
    order = OrderFactory(table=table, lines=[(food, 1)])
    events.subscribe(f"table.{table.pk.hex}")

    for new_status in ["cooking", "served", "cooking", "served"]:
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_api.patch(status_url(order), {"kitchen_status": new_status}, format="json")
        assert response.status_code == 200, response.content
        assert response.json() == order_json(order)
        assert response.json()["kitchen_status"] == new_status
        assert [item["kitchen_status"] for item in response.json()["items"]] == [new_status]
        # once to the table's tab, once to the kitchen
        assert [(e["type"], e["order"]["kitchen_status"]) for e in events.drain()] == [
            ("order.updated", new_status)
        ] * 2
        # the night report's ticket time is kept while served and cleared by a recall
        line = OrderItem.objects.get(order=order)
        if new_status == "served":
            assert line.ticket_tenths == ticket_tenths(line.paid_at, line.served_at)
        else:
            assert (line.served_at, line.ticket_tenths) == (None, None)


def test_a_ticket_served_by_a_process_whose_clock_is_a_moment_behind_takes_no_negative_time(staff_api, table, food):
    ahead = timezone.now() + timedelta(seconds=2)  # paid by another process, its clock 2 s ahead of ours
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=KitchenStatus.COOKING, paid_at=ahead)

    response = staff_api.patch(status_url(order), {"kitchen_status": "served"}, format="json")

    assert response.status_code == 200, response.content
    assert OrderItem.objects.get(order=order).ticket_tenths == 0


def test_a_line_an_older_release_wrote_without_its_payment_time_is_served_and_takes_it(staff_api, table, food):
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=KitchenStatus.COOKING, paid_at=ago(12))
    OrderItem.objects.filter(order=order).update(paid_at=None)  # written while the new release migrated

    response = staff_api.patch(status_url(order), {"kitchen_status": "served"}, format="json")

    assert response.status_code == 200, response.content
    line = OrderItem.objects.get(order=order)
    assert line.paid_at == order.paid_at
    assert line.ticket_tenths == ticket_tenths(order.paid_at, line.served_at) >= 12 * 600


def test_served_ticket_leaves_the_board_and_a_recall_brings_it_back(staff_api, table, food):
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=KitchenStatus.COOKING)

    staff_api.patch(status_url(order), {"kitchen_status": "served"}, format="json")
    assert staff_api.get("/api/kitchen/orders/").json() == []

    staff_api.patch(status_url(order), {"kitchen_status": "cooking"}, format="json")
    assert [ticket["id"] for ticket in staff_api.get("/api/kitchen/orders/").json()] == [str(order.pk)]


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ("queued", "queued"),
        ("queued", "served"),
        ("cooking", "cooking"),
        ("cooking", "queued"),
        ("served", "served"),
        ("served", "queued"),
    ],
)
def test_invalid_transition_is_409_and_changes_nothing(
    staff_api, table, food, snapshot, events, django_capture_on_commit_callbacks, current, wanted
):
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=current)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.patch(status_url(order), {"kitchen_status": wanted}, format="json")

    body = assert_error(response, 409, "invalid_transition")
    assert body["kitchen_status"] == current
    assert snapshot() == before
    assert events.drain() == []


def test_a_start_tapped_on_a_screen_that_had_not_seen_the_serve_is_409_not_a_recall(
    staff_api, table, food, snapshot, events, django_capture_on_commit_callbacks
):
    """A board's queued 조리시작 (it saw the ticket waiting) sent after another screen served the ticket: the
    move served -> cooking would be a recall, which the cook never asked for."""
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status="served")
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.patch(
            status_url(order), {"kitchen_status": "cooking", "from_status": "queued"}, format="json"
        )

    body = assert_error(response, 409, "invalid_transition")
    assert body["kitchen_status"] == "served"
    assert snapshot() == before
    assert events.drain() == []


@pytest.mark.parametrize(("current", "wanted"), [("queued", "cooking"), ("served", "cooking"), ("cooking", "served")])
def test_a_tap_made_on_a_screen_that_saw_the_ticket_as_it_is_moves_it(staff_api, table, food, current, wanted):
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=current)

    response = staff_api.patch(status_url(order), {"kitchen_status": wanted, "from_status": current}, format="json")

    assert response.status_code == 200 and response.json()["kitchen_status"] == wanted


def test_a_bar_screen_tap_compares_what_it_saw_with_the_bars_lines_only(staff_api, table, food):
    """The kitchen's half is cooking; the bar screen saw its own half waiting, as it is: the move applies."""
    beer = FoodFactory(category="drinks")
    order = OrderFactory(table=table, lines=[(food, 1), (beer, 1)])
    staff_api.patch(status_url(order), {"kitchen_status": "cooking", "station": "kitchen"}, format="json")

    moved = staff_api.patch(
        status_url(order), {"kitchen_status": "cooking", "station": "bar", "from_status": "queued"}, format="json"
    )
    stale = staff_api.patch(
        status_url(order), {"kitchen_status": "served", "station": "bar", "from_status": "queued"}, format="json"
    )

    assert moved.status_code == 200
    assert_error(stale, 409, "invalid_transition")
    assert {line.station: line.kitchen_status for line in OrderItem.objects.filter(order=order)} == {
        "kitchen": "cooking",
        "bar": "cooking",
    }


def test_unpaid_pre_order_cannot_be_cooked(api, staff_api, table, food, snapshot):
    created = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 24000, "items": [{"food_id": food.pk, "quantity": 2}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    order = Order.objects.get(pk=created.json()["order_id"])
    assert order.status == OrderStatus.PRE_ORDER
    before = snapshot()

    response = staff_api.patch(status_url(order), {"kitchen_status": "cooking"}, format="json")

    assert_error(response, 409, "not_paid")
    assert snapshot() == before
    assert staff_api.get("/api/kitchen/orders/").json() == []


def test_cancelled_order_cannot_be_cooked(staff_api, table, food, snapshot):
    order = OrderFactory(table=table, lines=[(food, 1)], status=OrderStatus.CANCELLED)
    before = snapshot()

    response = staff_api.patch(status_url(order), {"kitchen_status": "cooking"}, format="json")

    assert_error(response, 409, "not_paid")
    assert snapshot() == before


@pytest.mark.parametrize("order_id", [str(uuid.uuid4()), "not-a-uuid", "1234", "%00"])
def test_unknown_or_malformed_order_is_404(staff_api, table, food, snapshot, order_id):
    OrderFactory(table=table, lines=[(food, 1)])
    before = snapshot()

    response = staff_api.patch(f"/api/orders/{order_id}/kitchen-status/", {"kitchen_status": "cooking"}, format="json")

    assert_error(response, 404, "order_not_found")
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [{}, {"kitchen_status": "done"}, {"kitchen_status": "COOKING"}, {"kitchen_status": 1}, {"kitchen_status": None}],
)
def test_bad_status_body_is_400(staff_api, table, food, snapshot, body):
    order = OrderFactory(table=table, lines=[(food, 1)])
    before = snapshot()

    response = staff_api.patch(status_url(order), body, format="json")

    response_body = assert_error(response, 400, "invalid")
    assert list(response_body["errors"]) == ["kitchen_status"]
    assert snapshot() == before
