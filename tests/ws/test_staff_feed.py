"""/ws/staff/ and the station boards (CONTRACT.md sections 5 and 8), through the real ASGI application."""

import json
import os

import pytest
import requests
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext
from websockets.sync.client import connect as ws_connect

from kitchen.selectors import staff_snapshot
from ordering.models import Category
from ordering.services import order_place
from tests.factories import FoodFactory, TableFactory
from tests.servers import Daphne, shared_layer_env
from tests.ws.test_consumers import call_api, connect, next_event, staff_token


def order_body(table, *lines):
    return {"table_id": str(table.pk), "items": [{"food_id": f.pk, "quantity": q} for f, q in lines]}


@pytest.mark.django_db(transaction=True)
async def test_the_staff_socket_refuses_who_is_not_staff():
    _, anonymous = await connect("/ws/staff/")
    _, guest = await connect(f"/ws/staff/?token={await staff_token(is_staff=False)}")

    assert anonymous == {"close": 4401}
    assert guest == {"close": 4403}


@pytest.mark.django_db(transaction=True)
async def test_the_staff_snapshot_shows_the_floor():
    busy, calm = await sync_to_async(TableFactory)(name="A1"), await sync_to_async(TableFactory)(name="A2")
    food = await sync_to_async(FoodFactory)(price=10000)
    await call_api("post", "/api/orders/", order_body(busy, (food, 2)))
    await call_api(
        "post",
        f"/api/orders/pre-order/{busy.pk}/",
        {"payer_name": "홍길동", "total_amount": 10000, "items": [{"food_id": food.pk, "quantity": 1}]},
    )
    called = (await call_api("post", f"/api/tables/{busy.pk}/call-staff/", {"message": "물"})).json()
    await call_api(
        "post",
        "/api/webhook/payment/",
        {"transaction_type": "deposited", "transaction_name": "모르는분", "amount": 3000},
    )

    socket, snapshot = await connect(f"/ws/staff/?token={await staff_token()}")

    assert snapshot["type"] == "snapshot" and snapshot["seq"] >= 2 and snapshot["menu_version"]
    rows = {row["name"]: row for row in snapshot["tables"]}
    floor = ("total_spent", "is_open", "open_tickets", "pending_pre_orders", "open_calls")
    assert {k: rows["A1"][k] for k in floor} == {
        "total_spent": 20000,
        "is_open": True,
        "open_tickets": 1,
        "pending_pre_orders": 1,
        "open_calls": 1,
    }
    assert rows["A2"]["open_tickets"] == rows["A2"]["pending_pre_orders"] == rows["A2"]["open_calls"] == 0
    assert [o["payer_name"] for o in snapshot["pending_pre_orders"]] == ["홍길동"]
    assert [c["id"] for c in snapshot["calls"]] == [called["call_id"]]
    assert [p["outcome"] for p in snapshot["payments"]] in ([], ["unmatched"])  # webhook off without a key
    assert str(calm.pk) in {row["id"] for row in snapshot["tables"]}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_staff_socket_follows_orders_tables_and_calls_in_seq_order():
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)()
    token = await staff_token()
    socket, snapshot = await connect(f"/ws/staff/?token={token}")

    created = (await call_api("post", "/api/orders/", order_body(table, (food, 1)))).json()
    called = (await call_api("post", f"/api/tables/{table.pk}/call-staff/", {})).json()
    await call_api("post", f"/api/staff-calls/{called['call_id']}/ack/", token=token)
    await call_api("post", f"/api/tables/{table.pk}/close/?force=true", token=token)
    await call_api("post", f"/api/tables/{table.pk}/open/", token=token)

    events = [await next_event(socket) for _ in range(6)]
    assert [e["type"] for e in events] == [
        "order.created",
        "staff.called",
        "staff.call_acked",
        "table.reset",
        "table.closed",
        "table.opened",
    ]
    assert [e["seq"] for e in events] == list(range(snapshot["seq"] + 1, snapshot["seq"] + 7))
    assert events[0]["order"]["id"] == created["id"]
    assert events[1]["call"]["id"] == called["call_id"] and events[2]["call"]["acked_by"]
    assert events[4]["table"]["is_open"] is False and events[5]["table"]["is_open"] is True
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_station_board_starts_from_its_own_tickets_and_the_open_calls():
    table = await sync_to_async(TableFactory)()
    dish = await sync_to_async(FoodFactory)()
    beer = await sync_to_async(FoodFactory)(category=Category.DRINKS)
    food_only = (await call_api("post", "/api/orders/", order_body(table, (dish, 1)))).json()
    both = (await call_api("post", "/api/orders/", order_body(table, (dish, 1), (beer, 1)))).json()
    called = (await call_api("post", f"/api/tables/{table.pk}/call-staff/", {"message": "계산"})).json()
    token = await staff_token()

    bar, bar_snapshot = await connect(f"/ws/kitchen/?station=bar&token={token}")
    expo, expo_snapshot = await connect(f"/ws/kitchen/?token={token}")

    assert [o["id"] for o in bar_snapshot["orders"]] == [both["id"]]
    assert [o["id"] for o in expo_snapshot["orders"]] == [food_only["id"], both["id"]]
    assert [c["message"] for c in bar_snapshot["calls"]] == ["계산"]
    assert bar_snapshot["calls"][0]["id"] == called["call_id"]
    await bar.disconnect()
    await expo.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_board_of_an_unknown_station_is_refused():
    socket, first = await connect(f"/ws/kitchen/?station=grill&token={await staff_token()}")
    assert first["type"] == "error" and first["code"] == "invalid_station"
    assert (await socket.receive_output(timeout=3))["code"] == 4400


@pytest.mark.django_db
@pytest.mark.parametrize("tables", [30, 300])
def test_the_staff_snapshot_costs_the_same_queries_for_30_and_300_tables(tables, django_assert_num_queries):
    food = FoodFactory()
    for table in TableFactory.create_batch(tables):
        order_place(table_id=table.pk, quantities={food.pk: 1})
    staff_snapshot()  # the menu is read and kept once per process; what follows is the snapshot's own cost

    with CaptureQueriesContext(connection) as queries:
        snapshot = staff_snapshot()

    assert len(snapshot["tables"]) == tables and len(snapshot["orders"]) == tables
    # feed seq, the floor (one query with its counts), pending pre-orders (none here, so no lines read),
    # payments, open calls, open tickets with their lines and refunds (3)
    assert len(queries) == 8, [q["sql"][:80] for q in queries]


@pytest.mark.integration
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI runs it on Redis + MariaDB)")
@pytest.mark.django_db(transaction=True)
def test_the_staff_feed_reaches_a_socket_on_another_process():
    from rest_framework.authtoken.models import Token

    from tests.factories import StaffFactory

    table, food = TableFactory(), FoodFactory()
    token = Token.objects.create(user=StaffFactory()).key
    env = shared_layer_env()
    with (
        Daphne(env=env) as first,
        Daphne(env=env) as second,
        ws_connect(f"{second.ws_url}/ws/staff/?token={token}", open_timeout=5) as socket,
    ):
        snapshot = json.loads(socket.recv(timeout=5))
        assert snapshot["type"] == "snapshot"

        placed = requests.post(f"{first.url}/api/orders/", json=order_body(table, (food, 1)), timeout=5)
        called = requests.post(f"{first.url}/api/tables/{table.pk}/call-staff/", json={}, timeout=5)

        events = [json.loads(socket.recv(timeout=5)) for _ in range(2)]
        assert [e["type"] for e in events] == ["order.created", "staff.called"]
        assert events[0]["order"]["id"] == placed.json()["id"]
        assert events[1]["call"]["id"] == called.json()["call_id"]
        assert events[1]["seq"] == events[0]["seq"] + 1 == snapshot["seq"] + 2


@pytest.mark.django_db(transaction=True)
async def test_with_opening_required_a_closed_tables_socket_still_gets_its_snapshot(settings):
    """The tab is read outside a transaction: the order path's row lock must not be taken there (MariaDB
    refuses SELECT ... FOR UPDATE in autocommit; SQLite hides it)."""
    settings.TABLE_OPENING_REQUIRED = True
    table = await sync_to_async(TableFactory)(is_open=False)

    socket, snapshot = await connect(f"/ws/tables/{table.pk}/")
    tab = await call_api("get", f"/api/tables/{table.pk}/orders/")

    assert snapshot["type"] == "snapshot" and snapshot["table"]["is_open"] is False
    assert tab.status_code == 200
    await socket.disconnect()
