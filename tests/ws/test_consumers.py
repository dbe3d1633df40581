"""The sockets of CONTRACT.md section 5, driven through the real ASGI application."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.asgi import application
from kitchen.models import StaffCall
from ordering.models import Order
from tests.api.helpers import iso
from tests.factories import FoodFactory, StaffFactory, TableFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3


async def connect(path: str, headers=None) -> tuple[WebsocketCommunicator, dict | None]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    first = await communicator.receive_output(timeout=TIMEOUT)
    if first["type"] == "websocket.close":
        return communicator, {"close": first.get("code")}
    return communicator, json.loads(first["text"])


@sync_to_async
def staff_token(is_staff=True) -> str:
    return Token.objects.create(user=StaffFactory(is_staff=is_staff)).key


@sync_to_async
def call_api(method: str, path: str, body=None, token: str | None = None):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return getattr(client, method)(path, body, format="json")


async def next_event(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def test_table_socket_sends_snapshot_with_table_orders_and_foods():
    table = await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)(price=5000)
    await call_api("post", "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 2}]})

    communicator, snapshot = await connect(f"/ws/tables/{table.pk}/")

    assert snapshot["type"] == "snapshot"
    assert "T" in snapshot["ts"] and "." in snapshot["ts"]
    assert snapshot["table"]["id"] == str(table.pk)
    assert snapshot["table"]["total_spent"] == 10000
    assert [o["total_amount"] for o in snapshot["orders"]] == [10000]
    assert [f["id"] for f in snapshot["foods"]] == [food.pk]
    await communicator.disconnect()


@pytest.mark.parametrize("table_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
async def test_unknown_table_socket_closes_4404(table_id):
    communicator, first = await connect(f"/ws/tables/{table_id}/")
    assert first == {"close": 4404}
    await communicator.disconnect()


async def test_ping_pong_and_error_answers_keep_the_socket_open():
    table = await sync_to_async(TableFactory)()
    communicator, _ = await connect(f"/ws/tables/{table.pk}/")

    await communicator.send_to(text_data="{not json")
    malformed = await next_event(communicator)
    await communicator.send_json_to({"type": "dance"})
    unknown = await next_event(communicator)
    await communicator.send_json_to(["ping"])
    not_object = await next_event(communicator)
    await communicator.send_json_to({"type": "ping"})
    pong = await next_event(communicator)

    assert (malformed["type"], malformed["code"]) == ("error", "malformed_message")
    assert (unknown["type"], unknown["code"]) == ("error", "unknown_message")
    assert (not_object["type"], not_object["code"]) == ("error", "unknown_message")
    assert pong["type"] == "pong" and pong["ts"]
    await communicator.disconnect()


async def test_direct_order_reaches_its_table_tab_and_the_kitchen_but_not_other_tables():
    table, other = await sync_to_async(TableFactory)(), await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)()
    token = await staff_token()
    tab, _ = await connect(f"/ws/tables/{table.pk}/")
    other_tab, _ = await connect(f"/ws/tables/{other.pk}/")
    kitchen, _ = await connect(f"/ws/kitchen/?token={token}")

    response = await call_api(
        "post", "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}
    )
    assert response.status_code == 201

    on_tab, on_kitchen = await next_event(tab), await next_event(kitchen)
    assert on_tab["type"] == on_kitchen["type"] == "order.created"
    assert on_tab["order"]["id"] == on_kitchen["order"]["id"] == response.json()["id"]
    assert on_tab["order"] == response.json()
    assert await other_tab.receive_nothing(timeout=0.3)
    for communicator in (tab, other_tab, kitchen):
        await communicator.disconnect()


async def test_pre_order_reaches_the_tab_but_not_the_kitchen():
    table = await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)(price=7000)
    token = await staff_token()
    tab, _ = await connect(f"/ws/tables/{table.pk}/")
    kitchen, _ = await connect(f"/ws/kitchen/?token={token}")

    response = await call_api(
        "post",
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 7000, "items": [{"food_id": food.pk, "quantity": 1}]},
    )
    assert response.status_code == 201

    event = await next_event(tab)
    assert (event["type"], event["order"]["status"]) == ("order.created", "pre_order")
    assert await kitchen.receive_nothing(timeout=0.3)

    confirmed = await call_api("post", f"/api/orders/{response.json()['order_id']}/confirm-payment/", token=token)
    assert confirmed.status_code == 200
    paid_tab, paid_kitchen = await next_event(tab), await next_event(kitchen)
    assert paid_tab["type"] == paid_kitchen["type"] == "order.paid"
    assert paid_kitchen["order"]["status"] == "completed"
    await tab.disconnect()
    await kitchen.disconnect()


async def test_sold_out_switch_reaches_every_tab_and_the_kitchen():
    tables = [await sync_to_async(TableFactory)() for _ in range(3)]
    food = await sync_to_async(FoodFactory)()
    token = await staff_token()
    tabs = [(await connect(f"/ws/tables/{t.pk}/"))[0] for t in tables]
    kitchen, _ = await connect(f"/ws/kitchen/?token={token}")

    response = await call_api("patch", f"/api/foods/{food.pk}/", {"sold_out": True}, token=token)
    assert response.status_code == 200

    for communicator in [*tabs, kitchen]:
        event = await next_event(communicator)
        assert event["type"] == "food.updated"
        assert event["food"] == {**response.json(), "sold_out": True}
        await communicator.disconnect()


async def test_kitchen_status_change_and_reset_reach_tab_and_kitchen():
    table = await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)()
    token = await staff_token()
    order = await call_api(
        "post", "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}
    )
    tab, _ = await connect(f"/ws/tables/{table.pk}/")
    kitchen, snapshot = await connect(f"/ws/kitchen/?token={token}")
    assert [o["id"] for o in snapshot["orders"]] == [order.json()["id"]]

    for kitchen_status in ["cooking", "served"]:  # served: nothing left to cook, so the table resets freely
        await call_api(
            "patch", f"/api/orders/{order.json()['id']}/kitchen-status/", {"kitchen_status": kitchen_status}, token
        )
        for communicator in (tab, kitchen):
            event = await next_event(communicator)
            assert (event["type"], event["order"]["kitchen_status"]) == ("order.updated", kitchen_status)

    reset = await call_api("delete", f"/api/tables/{table.pk}/orders/reset/", token=token)
    assert reset.json() == {"archived": 1}
    for communicator in (tab, kitchen):
        event = await next_event(communicator)
        assert event == {"type": "table.reset", "table_id": str(table.pk), "ts": event["ts"], "seq": event["seq"]}
        await communicator.disconnect()


async def test_staff_call_reaches_the_kitchen_only():
    table = await sync_to_async(TableFactory)()
    token = await staff_token()
    tab, _ = await connect(f"/ws/tables/{table.pk}/")
    kitchen, _ = await connect(f"/ws/kitchen/?token={token}")

    response = await call_api("post", f"/api/tables/{table.pk}/call-staff/", {"message": "물 좀 주세요"})
    assert response.status_code == 202

    event = await next_event(kitchen)
    call = await sync_to_async(StaffCall.objects.get)()
    assert response.json() == {"status": "sent", "call_id": call.pk}
    assert event["type"] == "staff.called"
    assert event["call"] == {
        "id": call.pk,
        "table": {"id": str(table.pk), "name": table.name},
        "message": "물 좀 주세요",
        "created_at": iso(call.created_at),
        "acked_at": None,
        "acked_by": None,
    }
    assert await tab.receive_nothing(timeout=0.3)
    await tab.disconnect()
    await kitchen.disconnect()


async def test_kitchen_socket_refuses_anonymous_4401_and_non_staff_4403():
    anonymous, first = await connect("/ws/kitchen/")
    assert first == {"close": 4401}
    await anonymous.disconnect()

    bad_token, first = await connect("/ws/kitchen/?token=nope")
    assert first == {"close": 4401}
    await bad_token.disconnect()

    customer, first = await connect(f"/ws/kitchen/?token={await staff_token(is_staff=False)}")
    assert first == {"close": 4403}
    await customer.disconnect()


async def test_kitchen_socket_accepts_a_staff_session_cookie():
    @sync_to_async
    def session_cookie() -> str:
        from django.test import Client

        client = Client()
        client.force_login(StaffFactory())
        return client.cookies["sessionid"].value

    cookie = await session_cookie()
    kitchen, snapshot = await connect("/ws/kitchen/", headers=[(b"cookie", f"sessionid={cookie}".encode())])
    assert snapshot["type"] == "snapshot" and snapshot["orders"] == []
    await kitchen.disconnect()


async def test_socket_from_a_foreign_origin_is_refused():
    table = await sync_to_async(TableFactory)()
    communicator, first = await connect(f"/ws/tables/{table.pk}/", headers=[(b"origin", b"https://evil.example.com")])
    assert first == {"close": 4403}  # more cases in tests/ws/test_handshake.py
    await communicator.disconnect()


async def test_an_event_raised_while_the_snapshot_is_read_is_not_lost():
    """Groups are joined before the snapshot is read, so an order committed meanwhile still arrives."""
    table = await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)()
    body = {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}

    communicator = WebsocketCommunicator(application, f"/ws/tables/{table.pk}/")
    connect_task = asyncio.ensure_future(communicator.connect(timeout=TIMEOUT))
    order = await call_api("post", "/api/orders/", body)
    assert (await connect_task)[0]

    snapshot = await next_event(communicator)
    seen = {o["id"] for o in snapshot["orders"]}
    if order.json()["id"] not in seen:
        event = await next_event(communicator)
        seen.add(event["order"]["id"])
    assert order.json()["id"] in seen
    assert await sync_to_async(Order.objects.count)() == 1
    await communicator.disconnect()


async def test_a_change_to_an_order_archived_by_a_reset_does_not_bring_it_back_on_screens():
    table = await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)()
    token = await staff_token()
    order = await call_api(
        "post", "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}
    )
    # forced: the ticket is not served yet, and is still moved on the board after it left the tab
    reset = await call_api("delete", f"/api/tables/{table.pk}/orders/reset/?force=true", token=token)
    assert reset.json() == {"archived": 1}
    tab, _ = await connect(f"/ws/tables/{table.pk}/")
    kitchen, _ = await connect(f"/ws/kitchen/?token={token}")

    response = await call_api(
        "patch", f"/api/orders/{order.json()['id']}/kitchen-status/", {"kitchen_status": "cooking"}, token
    )

    assert response.status_code == 200
    assert await tab.receive_nothing(timeout=0.3)
    assert await kitchen.receive_nothing(timeout=0.3)
    await tab.disconnect()
    await kitchen.disconnect()


async def test_a_snapshot_after_a_rename_in_the_admin_shows_the_new_name_on_the_table_and_its_orders():
    """A rename is no event of the table's feed: the tab kept for the first snapshot must not hide it."""
    table = await sync_to_async(TableFactory)(name="A1")
    food = await sync_to_async(FoodFactory)()
    await call_api("post", "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]})
    first, before = await connect(f"/ws/tables/{table.pk}/")
    assert before["table"]["name"] == "A1" and before["orders"][0]["table_name"] == "A1"

    table.name = "테라스1"
    await sync_to_async(table.save)()  # as the admin's change form does
    second, after = await connect(f"/ws/tables/{table.pk}/")

    assert after["table"]["name"] == "테라스1"
    assert [o["table_name"] for o in after["orders"]] == ["테라스1"]
    assert after["seq"] == before["seq"]
    await first.disconnect()
    await second.disconnect()


async def test_a_table_deleted_after_its_tab_was_read_closes_the_next_socket_4404():
    table = await sync_to_async(TableFactory)()
    first, snapshot = await connect(f"/ws/tables/{table.pk}/")
    assert snapshot["type"] == "snapshot"
    await first.disconnect()

    await sync_to_async(table.delete)()
    _, closed = await connect(f"/ws/tables/{table.pk}/")

    assert closed == {"close": 4404}
