"""Tables: the public table and tab, the staff list, create and reset (CONTRACT.md section 4)."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from ordering.models import KitchenStatus, Order, OrderStatus, Table
from tests.api.factories import OrderFactory, RefundFactory
from tests.api.helpers import assert_error, order_json, table_json
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db

MALFORMED_TABLE_IDS = [
    "not-a-uuid",
    "1234",
    "00000000-0000-0000-0000-00000000000g",
    "6f1c2a4e-8b0d-4c3e-9a51-1d2e3f4a5b6c7",
    "%00",
    "%20",
]


def minutes_ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


@pytest.fixture
def tab(table, food):
    """A table's session: two completed orders (one partly refunded), a pending pre-order, a cancelled order,
    an order archived by an earlier reset, and an order of another table."""
    old = OrderFactory(table=table, lines=[(food, 2)], ordered_at=minutes_ago(50))
    refunded = OrderFactory(table=table, lines=[(food, 3)], ordered_at=minutes_ago(40))
    RefundFactory(order=refunded, food=food, quantity=1)
    pending = OrderFactory(
        table=table,
        status=OrderStatus.PRE_ORDER,
        payer_name="홍길동",
        lines=[(food, 1)],
        expires_at=timezone.now() + timedelta(minutes=30),
        ordered_at=minutes_ago(30),
    )
    cancelled = OrderFactory(table=table, status=OrderStatus.CANCELLED, lines=[(food, 4)], ordered_at=minutes_ago(20))
    archived = OrderFactory(table=table, lines=[(food, 5)], archived_at=minutes_ago(60), ordered_at=minutes_ago(90))
    other = OrderFactory(table=TableFactory(), lines=[(food, 6)], ordered_at=minutes_ago(10))
    return {"old": old, "refunded": refunded, "pending": pending, "cancelled": cancelled, "archived": archived,
            "other": other}  # fmt: skip


# --- public: one table ------------------------------------------------------------------------------


def test_table_detail(api, table):
    response = api.get(f"/api/tables/{table.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body == table_json(table)
    assert body["created_at"].endswith("+09:00")


def test_table_detail_total_spent_counts_the_current_session_only(api, table, tab):
    response = api.get(f"/api/tables/{table.pk}/")

    assert response.status_code == 200
    # 24000 + (36000 - 12000 refunded); not the pre-order, the cancelled order, the archived one or another table's
    assert response.json() == table_json(table, total_spent=48000)


@pytest.mark.parametrize("table_id", [str(uuid.uuid4()), *MALFORMED_TABLE_IDS])
@pytest.mark.parametrize("suffix", ["", "orders/"])
def test_unknown_or_malformed_table_is_404(api, table, table_id, suffix):
    response = api.get(f"/api/tables/{table_id}/{suffix}")

    assert_error(response, 404, "table_not_found")


def test_tab_lists_the_current_session_newest_first_without_cancelled_orders(api, table, tab):
    response = api.get(f"/api/tables/{table.pk}/orders/")

    assert response.status_code == 200
    assert response.json() == {
        "table": table_json(table, total_spent=48000),
        "orders": [order_json(tab["pending"]), order_json(tab["refunded"]), order_json(tab["old"])],
        "total_spent": 48000,
    }


def test_tab_of_a_new_table_is_empty(api, table):
    response = api.get(f"/api/tables/{table.pk}/orders/")

    assert response.status_code == 200
    assert response.json() == {"table": table_json(table), "orders": [], "total_spent": 0}


# --- staff: list and create -------------------------------------------------------------------------


def test_staff_lists_tables_by_name_with_their_session_spend(staff_api, table, tab):
    other_table = tab["other"].table
    empty = TableFactory(name="A0")

    response = staff_api.get("/api/tables/")

    assert response.status_code == 200
    expected = sorted(
        [table_json(table, 48000), table_json(other_table, 72000), table_json(empty, 0)], key=lambda t: t["name"]
    )
    assert response.json() == expected


def test_staff_creates_a_named_table(staff_api):
    response = staff_api.post("/api/tables/create/", {"name": "Z9"}, format="json")

    assert response.status_code == 201
    table = Table.objects.get(name="Z9")
    assert response.json() == table_json(table)


def test_staff_creates_a_table_without_a_name(staff_api):
    response = staff_api.post("/api/tables/create/", {}, format="json")

    assert response.status_code == 201
    body = response.json()
    table = Table.objects.get()
    assert body == table_json(table)
    assert table.name.startswith("T-") and len(table.name) == 7


def test_created_tables_without_names_get_distinct_names(staff_api):
    names = {staff_api.post("/api/tables/create/", {}, format="json").json()["name"] for _ in range(5)}

    assert len(names) == 5
    assert Table.objects.count() == 5


@pytest.mark.parametrize("name", ["A1", "  A1  "])
def test_duplicate_table_name_is_409_and_creates_nothing(staff_api, snapshot, name):
    TableFactory(name="A1")
    before = snapshot()

    response = staff_api.post("/api/tables/create/", {"name": name}, format="json")

    assert_error(response, 409, "table_name_taken")
    assert snapshot() == before


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {"name": "x" * 51}, {"name": None}, {"name": ["A"]}])
def test_table_create_with_bad_input_is_400(staff_api, snapshot, body):
    before = snapshot()

    response = staff_api.post("/api/tables/create/", body, format="json")

    assert_error(response, 400, "invalid")
    assert list(response.json()["errors"]) == ["name"]
    assert snapshot() == before


# --- staff: reset -----------------------------------------------------------------------------------


def serve(staff_api, *orders) -> None:
    """Cook and serve tickets through the kitchen API: a table whose tickets are all served resets freely."""
    for order in orders:
        for kitchen_status in ["cooking", "served"]:
            response = staff_api.patch(
                f"/api/orders/{order.pk}/kitchen-status/", {"kitchen_status": kitchen_status}, format="json"
            )
            assert response.status_code == 200, response.content


def test_reset_archives_the_tab_and_keeps_history(
    staff_api, api, table, tab, events, django_capture_on_commit_callbacks
):
    serve(staff_api, tab["old"], tab["refunded"])
    before_history = staff_api.get("/api/orders/history/", {"table_id": str(table.pk)}).json()
    events.subscribe(f"table.{table.pk.hex}")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")

    assert response.status_code == 200
    # old, refunded, cancelled and the pending pre-order; the archived one was already
    assert response.json() == {"archived": 4}
    assert api.get(f"/api/tables/{table.pk}/orders/").json() == {
        "table": table_json(table, 0),
        "orders": [],
        "total_spent": 0,
    }
    assert staff_api.get("/api/orders/history/", {"table_id": str(table.pk)}).json() == before_history
    assert Order.objects.filter(table=table).count() == 5
    # the other table's tab is untouched
    assert Order.objects.get(pk=tab["other"].pk).archived_at is None
    # the test channel sits in both groups that hear of a reset: the table's tab and the kitchen
    received = events.drain()
    assert [(event["type"], event["table_id"]) for event in received] == [("table.reset", str(table.pk))] * 2


def test_reset_twice_archives_nothing_the_second_time(staff_api, table, tab):
    serve(staff_api, tab["old"], tab["refunded"])
    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/").json() == {"archived": 4}

    response = staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")

    assert response.status_code == 200
    assert response.json() == {"archived": 0}


def test_reset_removes_the_tickets_from_the_kitchen_board(staff_api, table, food):
    OrderFactory(table=table, lines=[(food, 1)], kitchen_status=KitchenStatus.COOKING)
    assert len(staff_api.get("/api/kitchen/orders/").json()) == 1

    staff_api.delete(f"/api/tables/{table.pk}/orders/reset/?force=true")  # the ticket is still cooking

    assert staff_api.get("/api/kitchen/orders/").json() == []


@pytest.mark.parametrize("table_id", [str(uuid.uuid4()), *MALFORMED_TABLE_IDS])
def test_reset_of_an_unknown_or_malformed_table_is_404(staff_api, table, tab, snapshot, table_id):
    before = snapshot()

    response = staff_api.delete(f"/api/tables/{table_id}/orders/reset/")

    assert_error(response, 404, "table_not_found")
    assert snapshot() == before


def test_tables_list_has_one_row_per_table_whatever_its_orders(staff_api, table):
    food = FoodFactory()
    for _ in range(3):
        OrderFactory(table=table, lines=[(food, 1)])

    response = staff_api.get("/api/tables/")

    assert response.json() == [table_json(table, 30000)]


def _other_spellings(table_id: str) -> list[str]:
    full_width = table_id.translate({ord(d): chr(0xFF10 + int(d)) for d in "0123456789"})
    return [full_width, "{" + table_id + "}", "urn:uuid:" + table_id, table_id.replace("-", "")]


def test_a_table_id_only_uuid_would_read_is_404_in_a_path_and_invalid_in_a_body(api, table):
    """A UUID as the API writes it (either case) names a table; uuid.UUID() would also read these."""
    table_id = str(table.pk)
    for spelling in _other_spellings(table_id):
        assert_error(api.get(f"/api/tables/{spelling}/"), 404, "table_not_found")
        body = {"table_id": spelling, "items": [{"food_id": 1, "quantity": 1}]}
        assert_error(api.post("/api/orders/", body, format="json"), 400, "invalid")
    assert api.get(f"/api/tables/{table_id.upper()}/").status_code == 200
