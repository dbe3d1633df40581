"""CONTRACT.md sections 3, 4 and 8 for the front of house: stations, tables staff open and close, staff
calls that stay until acknowledged, resets that warn, and who did what."""

import pytest
from django.core.management import call_command

from core.models import StaffAction
from kitchen.models import StaffCall
from ordering.events import GROUP_KITCHEN, GROUP_STAFF, table_group
from ordering.models import Category, Food, Order, Table
from tests.api.helpers import assert_error
from tests.api.support import IN_MEMORY_LAYER, EventRecorder
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bar_food(db):
    return FoodFactory(name="생맥주", price=5000, category=Category.DRINKS)


def place(api, table, *lines):
    response = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": f.pk, "quantity": q} for f, q in lines]},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def move(staff_api, order_id, kitchen_status, station=None):
    body = {"kitchen_status": kitchen_status}
    if station:
        body["station"] = station
    return staff_api.patch(f"/api/orders/{order_id}/kitchen-status/", body, format="json")


# --- stations ---------------------------------------------------------------------------------------


def test_a_new_food_takes_its_station_from_its_category(food, bar_food, api):
    assert api.get(f"/api/foods/{food.pk}/").json()["station"] == "kitchen"
    assert api.get(f"/api/foods/{bar_food.pk}/").json()["station"] == "bar"


def test_staff_moves_a_food_to_another_station(staff_api, food):
    response = staff_api.patch(f"/api/foods/{food.pk}/", {"station": "bar"}, format="json")

    assert response.status_code == 200
    assert response.json()["station"] == "bar"
    assert Food.objects.get(pk=food.pk).station == "bar"


@pytest.mark.parametrize("station", ["grill", "", None, 1])
def test_an_unknown_station_is_refused(staff_api, food, station):
    response = staff_api.patch(f"/api/foods/{food.pk}/", {"station": station}, format="json")

    body = assert_error(response, 400, "invalid")
    assert "station" in body["errors"]
    assert Food.objects.get(pk=food.pk).station == "kitchen"


def test_each_line_keeps_the_station_it_was_ordered_for(api, staff_api, table, food, bar_food):
    order = place(api, table, (food, 1), (bar_food, 2))
    staff_api.patch(f"/api/foods/{bar_food.pk}/", {"station": "kitchen"}, format="json")

    items = api.get(f"/api/tables/{table.pk}/orders/").json()["orders"][0]["items"]

    assert order["items"] == [
        {
            "food": {"id": food.pk, "name": food.name, "price": 12000},
            "quantity": 1,
            "total_price": 12000,
            "station": "kitchen",
            "kitchen_status": "queued",
        },
        {
            "food": {"id": bar_food.pk, "name": "생맥주", "price": 5000},
            "quantity": 2,
            "total_price": 10000,
            "station": "bar",
            "kitchen_status": "queued",
        },
    ]
    assert [item["station"] for item in items] == ["kitchen", "bar"]


def test_each_station_moves_only_its_lines_and_the_order_follows(api, staff_api, table, food, bar_food):
    order = place(api, table, (food, 1), (bar_food, 1))

    poured = move(staff_api, order["id"], "cooking", "bar")
    assert poured.status_code == 200
    assert poured.json()["kitchen_status"] == "cooking"
    assert [i["kitchen_status"] for i in poured.json()["items"]] == ["queued", "cooking"]

    served_bar = move(staff_api, order["id"], "served", "bar").json()
    assert served_bar["kitchen_status"] == "cooking"  # the kitchen's half is not out yet
    assert [i["kitchen_status"] for i in served_bar["items"]] == ["queued", "served"]

    move(staff_api, order["id"], "cooking", "kitchen")
    done = move(staff_api, order["id"], "served", "kitchen").json()
    assert done["kitchen_status"] == "served"
    assert [i["kitchen_status"] for i in done["items"]] == ["served", "served"]


def test_a_recall_at_one_station_reopens_the_ticket(api, staff_api, table, food, bar_food):
    order = place(api, table, (food, 1), (bar_food, 1))
    move(staff_api, order["id"], "cooking")
    move(staff_api, order["id"], "served")

    recalled = move(staff_api, order["id"], "cooking", "bar").json()

    assert recalled["kitchen_status"] == "cooking"
    assert [i["kitchen_status"] for i in recalled["items"]] == ["served", "cooking"]


def test_moving_a_station_the_ticket_has_no_line_of_is_409(api, staff_api, table, food):
    order = place(api, table, (food, 1))

    body = assert_error(move(staff_api, order["id"], "cooking", "bar"), 409, "invalid_transition")

    assert body["station"] == "bar"
    assert Order.objects.get(pk=order["id"]).kitchen_status == "queued"


def test_a_station_transition_is_checked_against_its_own_lines(api, staff_api, table, food, bar_food):
    order = place(api, table, (food, 1), (bar_food, 1))
    move(staff_api, order["id"], "cooking", "kitchen")

    # The order is cooking, but the bar's line has not started: it cannot be recalled or skip ahead oddly.
    body = assert_error(move(staff_api, order["id"], "queued", "bar"), 409, "invalid_transition")
    assert body["kitchen_status"] == "queued"


def test_board_of_one_station_lists_tickets_with_an_unserved_line_of_it(api, staff_api, table, food, bar_food):
    food_only = place(api, table, (food, 1))
    both = place(api, table, (food, 1), (bar_food, 1))
    drinks_only = place(api, table, (bar_food, 3))
    move(staff_api, drinks_only["id"], "cooking", "bar")
    move(staff_api, drinks_only["id"], "served", "bar")

    bar = staff_api.get("/api/kitchen/orders/?station=bar").json()
    kitchen = staff_api.get("/api/kitchen/orders/?station=kitchen").json()
    expo = staff_api.get("/api/kitchen/orders/").json()

    assert [o["id"] for o in bar] == [both["id"]]
    assert [o["id"] for o in kitchen] == [food_only["id"], both["id"]]
    assert [o["id"] for o in expo] == [food_only["id"], both["id"]]


def test_board_of_an_unknown_station_is_400(staff_api):
    body = assert_error(staff_api.get("/api/kitchen/orders/?station=grill"), 400, "invalid")
    assert "station" in body["errors"]


# --- tables that open and close ------------------------------------------------------------------------


def test_a_table_shows_whether_it_is_open(api, table):
    assert api.get(f"/api/tables/{table.pk}/").json()["is_open"] is True


def test_staff_close_a_table_its_tab_is_archived_and_it_is_closed(
    api, staff_api, table, food, settings, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    order = place(api, table, (food, 1))
    move(staff_api, order["id"], "cooking")
    move(staff_api, order["id"], "served")
    recorder = EventRecorder().subscribe(table_group(table.pk), GROUP_STAFF, GROUP_KITCHEN)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/tables/{table.pk}/close/")

    assert response.status_code == 200
    assert response.json()["is_open"] is False
    assert response.json()["total_spent"] == 0
    tab = api.get(f"/api/tables/{table.pk}/orders/").json()
    assert tab["orders"] == [] and tab["total_spent"] == 0
    assert Order.objects.get(pk=order["id"]).archived_at is not None  # kept in history
    assert staff_api.get("/api/orders/history/").json()["count"] == 1
    types = recorder.types()
    assert types.count("table.reset") == 3 and types.count("table.closed") == 3


def test_staff_open_a_closed_table_and_everyone_is_told(api, staff_api, settings, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    table = TableFactory(is_open=False)
    recorder = EventRecorder().subscribe(table_group(table.pk), GROUP_STAFF, GROUP_KITCHEN)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.post(f"/api/tables/{table.pk}/open/")

    assert response.status_code == 200
    assert response.json()["is_open"] is True
    events = recorder.drain()
    assert [e["type"] for e in events] == ["table.opened"] * 3
    assert all(e["table"]["id"] == str(table.pk) and e["table"]["is_open"] is True for e in events)


def test_opening_an_open_table_changes_nothing(staff_api, table, settings):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    recorder = EventRecorder().subscribe(table_group(table.pk))

    assert staff_api.post(f"/api/tables/{table.pk}/open/").json()["is_open"] is True
    assert recorder.drain() == []
    assert not StaffAction.objects.filter(action="table_open").exists()


@pytest.mark.parametrize("path", ["open", "close"])
def test_open_and_close_of_an_unknown_table_is_404(staff_api, path):
    assert_error(staff_api.post(f"/api/tables/00000000-0000-0000-0000-000000000000/{path}/"), 404, "table_not_found")
    assert_error(staff_api.post(f"/api/tables/nope/{path}/"), 404, "table_not_found")


@pytest.mark.parametrize("path", ["open", "close"])
def test_open_and_close_are_staff_only(api, guest_api, table, path):
    assert_error(api.post(f"/api/tables/{table.pk}/{path}/"), 401, "not_authenticated")
    assert_error(guest_api.post(f"/api/tables/{table.pk}/{path}/"), 403, "permission_denied")
    assert Table.objects.get(pk=table.pk).is_open is True


@pytest.fixture
def opening_required(settings):
    settings.TABLE_OPENING_REQUIRED = True


def test_with_opening_required_a_new_table_starts_closed(staff_api, opening_required):
    assert staff_api.post("/api/tables/create/", {"name": "D1"}, format="json").json()["is_open"] is False


def test_with_opening_required_seeded_tables_start_closed(opening_required):
    call_command("seed_tables", stdout=None)
    assert not Table.objects.filter(is_open=True).exists()
    assert Table.objects.count() == 15


def test_with_opening_off_a_closed_table_still_takes_orders(api, food):
    table = TableFactory(is_open=False)
    assert place(api, table, (food, 1))["status"] == "completed"


def test_with_opening_required_opening_a_table_starts_with_an_empty_cart(api, staff_api, food, opening_required):
    """Taps sent late by the last guests' phones (their Wi-Fi back after staff closed the table) do not wait in
    the cart for the next guests; an order from that old cart is refused."""
    table = TableFactory(is_open=False)
    late = api.put(
        f"/api/tables/{table.pk}/cart/", {"items": [{"food_id": food.pk, "quantity": 2}], "version": 0}, format="json"
    )
    assert late.status_code == 200

    assert staff_api.post(f"/api/tables/{table.pk}/open/").status_code == 200

    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == []
    order = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 2}], "cart_version": 1},
        format="json",
    )
    assert_error(order, 409, "cart_changed")


def test_with_opening_off_opening_a_table_keeps_its_cart(api, staff_api, food):
    """Guests at a closed table may order with "off": what they put in the cart stays."""
    table = TableFactory(is_open=False)
    api.put(
        f"/api/tables/{table.pk}/cart/", {"items": [{"food_id": food.pk, "quantity": 2}], "version": 0}, format="json"
    )

    assert staff_api.post(f"/api/tables/{table.pk}/open/").status_code == 200

    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == [{"food_id": food.pk, "quantity": 2}]


def test_with_opening_required_a_closed_table_takes_no_order(api, food, opening_required, snapshot):
    table = TableFactory(is_open=False)
    before = snapshot()

    direct = api.post(
        "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}, format="json"
    )
    pre = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 12000, "items": [{"food_id": food.pk, "quantity": 1}]},
        format="json",
    )

    assert_error(direct, 409, "table_closed")
    assert_error(pre, 409, "table_closed")
    assert snapshot() == before


def test_with_opening_required_calling_staff_works_at_a_closed_table(api, opening_required):
    table = TableFactory(is_open=False)
    response = api.post(f"/api/tables/{table.pk}/call-staff/", {"message": "문이 잠겼어요"}, format="json")
    assert response.status_code == 202
    assert StaffCall.objects.get(pk=response.json()["call_id"]).message == "문이 잠겼어요"


def test_with_opening_required_an_opened_table_takes_orders(api, staff_api, food, opening_required):
    table = TableFactory(is_open=False)
    staff_api.post(f"/api/tables/{table.pk}/open/")
    assert place(api, table, (food, 1))["status"] == "completed"


# --- resets that warn --------------------------------------------------------------------------------


def test_reset_is_refused_while_a_paid_ticket_is_not_served(api, staff_api, table, food, snapshot):
    first = place(api, table, (food, 1))
    place(api, table, (food, 2))
    move(staff_api, first["id"], "cooking")
    before = snapshot()

    body = assert_error(staff_api.delete(f"/api/tables/{table.pk}/orders/reset/"), 409, "open_tickets")

    assert body["count"] == 2
    assert "2" in body["detail"] and "초기화하려면" in body["detail"]
    assert snapshot() == before
    assert len(staff_api.get("/api/kitchen/orders/").json()) == 2


def test_close_is_refused_while_a_paid_ticket_is_not_served(api, staff_api, table, food):
    place(api, table, (food, 1))

    body = assert_error(staff_api.post(f"/api/tables/{table.pk}/close/"), 409, "open_tickets")

    assert body["count"] == 1
    assert "닫으려면" in body["detail"]  # the staff's own action, not a reset
    assert Table.objects.get(pk=table.pk).is_open is True


def test_forced_reset_archives_unserved_tickets(api, staff_api, table, food):
    place(api, table, (food, 1))

    response = staff_api.delete(f"/api/tables/{table.pk}/orders/reset/?force=true")

    assert response.status_code == 200 and response.json() == {"archived": 1}
    assert staff_api.get("/api/kitchen/orders/").json() == []


def test_reset_goes_ahead_once_every_ticket_is_served(api, staff_api, table, food):
    order = place(api, table, (food, 1))
    move(staff_api, order["id"], "cooking")
    move(staff_api, order["id"], "served")

    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/").json() == {"archived": 1}


def test_unpaid_pre_orders_do_not_block_a_reset_and_leave_the_tab(api, staff_api, table, food):
    api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 12000, "items": [{"food_id": food.pk, "quantity": 1}]},
        format="json",
    )
    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/").json() == {"archived": 1}
    assert api.get(f"/api/tables/{table.pk}/orders/").json()["orders"] == []


def test_a_pre_order_paid_after_a_reset_goes_to_the_kitchen_not_to_the_next_guests_tab(
    api, staff_api, table, food, settings, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    made = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 12000, "items": [{"food_id": food.pk, "quantity": 1}]},
        format="json",
    ).json()
    staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")
    tab_feed, kitchen = EventRecorder().subscribe(table_group(table.pk)), EventRecorder().subscribe(GROUP_KITCHEN)

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_api.post(f"/api/orders/{made['order_id']}/confirm-payment/").status_code == 200

    tab = api.get(f"/api/tables/{table.pk}/orders/").json()
    assert (tab["orders"], tab["total_spent"], api.get(f"/api/tables/{table.pk}/").json()["total_spent"]) == ([], 0, 0)
    assert tab_feed.types() == []
    assert kitchen.types() == ["order.paid"]
    assert [order["id"] for order in staff_api.get("/api/kitchen/orders/").json()] == [made["order_id"]]
    assert staff_api.get("/api/reports/night/").json()["gross"] == 12000  # the money counts, in its own session

    # Unserved, it holds the next reset; a forced one takes it off the board, and counts only the tab's orders.
    assert_error(staff_api.delete(f"/api/tables/{table.pk}/orders/reset/"), 409, "open_tickets")
    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/?force=true").json() == {"archived": 0}
    assert staff_api.get("/api/kitchen/orders/").json() == []


def test_a_ticket_refunded_whole_leaves_the_board_and_does_not_hold_a_reset(api, staff_api, table, food):
    whole, part = place(api, table, (food, 2)), place(api, table, (food, 2))
    for order, quantity in ((whole, 2), (part, 1)):
        refund = {"items": [{"food_id": food.pk, "quantity": quantity}], "reason": "품절"}
        assert staff_api.post(f"/api/orders/{order['id']}/refunds/", refund, format="json").status_code == 201

    assert [order["id"] for order in staff_api.get("/api/kitchen/orders/").json()] == [part["id"]]
    move(staff_api, part["id"], "cooking")
    move(staff_api, part["id"], "served")
    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/").json() == {"archived": 2}


def test_a_malformed_force_is_400(staff_api, table):
    assert_error(staff_api.delete(f"/api/tables/{table.pk}/orders/reset/?force=maybe"), 400, "invalid")


# --- staff calls ---------------------------------------------------------------------------------------


def call(api, table, message=None):
    body = {} if message is None else {"message": message}
    response = api.post(f"/api/tables/{table.pk}/call-staff/", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_every_call_is_stored_as_its_own(api, staff_api, table):
    first = call(api, table, "물 좀 주세요")
    second = call(api, table, "앞접시도 두 개")

    assert first["status"] == "sent" and second["status"] == "sent"
    assert first["call_id"] != second["call_id"]
    calls = staff_api.get("/api/staff-calls/").json()
    assert [c["message"] for c in calls] == ["앞접시도 두 개", "물 좀 주세요"]
    assert calls[0] == {
        "id": second["call_id"],
        "table": {"id": str(table.pk), "name": table.name},
        "message": "앞접시도 두 개",
        "created_at": calls[0]["created_at"],
        "acked_at": None,
        "acked_by": None,
    }


def test_an_acknowledgement_records_who_and_when_and_leaves_the_open_list(
    api, staff_api, staff, table, settings, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    recorder = EventRecorder().subscribe(GROUP_KITCHEN, GROUP_STAFF)
    with django_capture_on_commit_callbacks(execute=True):
        kept = call(api, table, "계산이요")
        acked = call(api, table, "물 좀 주세요")
        response = staff_api.post(f"/api/staff-calls/{acked['call_id']}/ack/")

    assert response.status_code == 200
    assert response.json()["acked_by"] == staff.username
    assert response.json()["acked_at"] is not None
    assert [c["id"] for c in staff_api.get("/api/staff-calls/?open=true").json()] == [kept["call_id"]]
    assert len(staff_api.get("/api/staff-calls/").json()) == 2
    events = recorder.drain()
    assert [e["type"] for e in events] == ["staff.called"] * 4 + ["staff.call_acked"] * 2
    assert events[0]["call"]["message"] == "계산이요" and events[0]["call"]["table"]["name"] == table.name
    assert events[-1]["call"]["acked_by"] == staff.username


def test_a_second_acknowledgement_keeps_the_first(api, staff_api, staff, table):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from tests.factories import StaffFactory

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=StaffFactory(username='bar')).key}")
    placed = call(api, table)
    first = staff_api.post(f"/api/staff-calls/{placed['call_id']}/ack/").json()

    second = other.post(f"/api/staff-calls/{placed['call_id']}/ack/")

    assert second.status_code == 200
    assert second.json() == first
    assert second.json()["acked_by"] == staff.username


@pytest.mark.parametrize("call_id", ["999999", "abc", "１", "-1", "99999999999999999999999"])
def test_acknowledging_an_unknown_call_is_404(staff_api, call_id):
    assert_error(staff_api.post(f"/api/staff-calls/{call_id}/ack/"), 404, "call_not_found")


def test_staff_calls_are_staff_only(api, guest_api, table):
    placed = call(api, table)
    assert_error(api.get("/api/staff-calls/"), 401, "not_authenticated")
    assert_error(guest_api.get("/api/staff-calls/"), 403, "permission_denied")
    assert_error(guest_api.post(f"/api/staff-calls/{placed['call_id']}/ack/"), 403, "permission_denied")
    assert StaffCall.objects.get(pk=placed["call_id"]).acked_at is None


def test_a_malformed_open_filter_is_400(staff_api):
    assert_error(staff_api.get("/api/staff-calls/?open=maybe"), 400, "invalid")


# --- the staff feed ------------------------------------------------------------------------------------


def test_the_staff_feed_gets_every_new_order_pre_orders_included(
    api, table, food, settings, django_capture_on_commit_callbacks
):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    staff_feed = EventRecorder().subscribe(GROUP_STAFF)
    kitchen = EventRecorder().subscribe(GROUP_KITCHEN)

    with django_capture_on_commit_callbacks(execute=True):
        api.post(
            f"/api/orders/pre-order/{table.pk}/",
            {"payer_name": "홍길동", "total_amount": 12000, "items": [{"food_id": food.pk, "quantity": 1}]},
            format="json",
        )
        place(api, table, (food, 1))

    staff_events = staff_feed.drain()
    assert [(e["type"], e["order"]["status"]) for e in staff_events] == [
        ("order.created", "pre_order"),
        ("order.created", "completed"),
    ]
    assert staff_events[1]["seq"] == staff_events[0]["seq"] + 1
    assert [e["order"]["status"] for e in kitchen.drain()] == ["completed"]


# --- attribution ---------------------------------------------------------------------------------------


def test_every_staff_write_of_the_front_of_house_records_who_and_when(api, staff_api, staff, table, food):
    order = place(api, table, (food, 1))
    placed = call(api, table)

    move(staff_api, order["id"], "cooking")
    move(staff_api, order["id"], "served")
    staff_api.patch(f"/api/foods/{food.pk}/", {"sold_out": True}, format="json")
    staff_api.post(f"/api/staff-calls/{placed['call_id']}/ack/")
    staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")
    staff_api.post(f"/api/tables/{table.pk}/close/")
    staff_api.post(f"/api/tables/{table.pk}/open/")

    actions = list(StaffAction.objects.order_by("id").values_list("action", "user__username", "target"))
    assert actions == [
        ("kitchen_status", staff.username, order["order_number"]),
        ("kitchen_status", staff.username, order["order_number"]),
        ("food_update", staff.username, food.name),
        ("staff_call_ack", staff.username, table.name),
        ("table_reset", staff.username, table.name),
        ("table_close", staff.username, table.name),
        ("table_open", staff.username, table.name),
    ]
    assert all(a.created_at is not None for a in StaffAction.objects.all())
    last_move = StaffAction.objects.filter(action="kitchen_status").order_by("id").last()
    assert last_move.detail["kitchen_status"] == "served"


def test_a_refused_staff_write_records_nothing(api, staff_api, table, food):
    place(api, table, (food, 1))
    staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")
    assert not StaffAction.objects.exists()
