"""Numbered feeds, heartbeats and merged food state (CONTRACT.md section 5), through the real application."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from ordering import services
from ordering.events import GROUP_MENU
from ordering.menu import menu_current
from ordering.models import Food
from realtime import broadcast, heartbeat
from tests.factories import FoodFactory, TableFactory
from tests.ws.test_consumers import TIMEOUT, call_api, connect, next_event, staff_token

pytestmark = pytest.mark.django_db(transaction=True)


def order_body(table, food, quantity=1) -> dict:
    return {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": quantity}]}


async def test_each_feed_numbers_its_events_and_the_snapshot_carries_the_latest():
    table, other = await sync_to_async(TableFactory)(), await sync_to_async(TableFactory)()
    food = await sync_to_async(FoodFactory)()
    token = await staff_token()
    first = await call_api("post", "/api/orders/", order_body(table, food))

    tab, snapshot = await connect(f"/ws/tables/{table.pk}/")
    kitchen, board = await connect(f"/ws/kitchen/?token={token}")
    assert snapshot["seq"] == 1 and board["seq"] == 1  # the first order's event, in both feeds
    assert snapshot["menu_version"] == board["menu_version"] == (await sync_to_async(menu_current)()).version

    await call_api("post", "/api/orders/", order_body(other, food))  # the kitchen's feed only
    second = await call_api("post", "/api/orders/", order_body(table, food))
    await call_api("patch", f"/api/orders/{first.json()['id']}/kitchen-status/", {"kitchen_status": "cooking"}, token)

    seen_tab = [await next_event(tab) for _ in range(2)]
    seen_kitchen = [await next_event(kitchen) for _ in range(3)]
    assert [(e["type"], e["seq"]) for e in seen_tab] == [("order.created", 2), ("order.updated", 3)]
    assert [e["seq"] for e in seen_kitchen] == [2, 3, 4]
    assert seen_tab[0]["order"]["id"] == second.json()["id"]
    for communicator in (tab, kitchen):
        await communicator.disconnect()


async def test_a_failed_write_takes_no_seq():
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)(stock=1)
    await call_api("post", "/api/orders/", order_body(table, food))
    refused = await call_api("post", "/api/orders/", order_body(table, food))  # sold out: rolled back
    assert refused.status_code == 409

    _, snapshot = await connect(f"/ws/tables/{table.pk}/")

    assert snapshot["seq"] == 1


async def test_a_heartbeat_carries_the_feeds_latest_seq_and_the_menu_version(settings):
    table = await sync_to_async(TableFactory)()
    tab, snapshot = await connect(f"/ws/tables/{table.pk}/")
    # Committed, but its event lost on the way (as in a Redis outage): only the database knows.
    await sync_to_async(broadcast.feeds_advance)([f"table.{table.pk.hex}"])

    assert await heartbeat.beat() >= 1

    beat = await next_event(tab)
    assert beat["type"] == "heartbeat"
    assert beat["seq"] == snapshot["seq"] + 1  # ahead of the last event: the page reloads its snapshot
    assert beat["menu_version"] == snapshot["menu_version"]
    await tab.disconnect()


async def test_the_menu_version_moves_with_a_change_of_any_food():
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)(stock=5)
    _, before = await connect(f"/ws/tables/{table.pk}/")

    await sync_to_async(services.food_update)(food_id=food.pk, price=9000)
    _, after = await connect(f"/ws/tables/{table.pk}/")

    assert before["menu_version"] != after["menu_version"]


async def test_the_menu_version_moves_with_every_change_even_one_undone():
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)()
    versions = []
    for sold_out in (None, True, False):
        if sold_out is not None:
            await sync_to_async(services.food_update)(food_id=food.pk, sold_out=sold_out)
        tab, snapshot = await connect(f"/ws/tables/{table.pk}/")
        versions.append(snapshot["menu_version"])
        await tab.disconnect()

    assert len(set(versions)) == 3  # back on sale: the menu reads as before, but a screen may have missed both


async def test_an_event_raised_while_a_socket_joins_comes_after_its_snapshot_or_is_in_it():
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)()

    async def place():
        await asyncio.sleep(0)
        return await call_api("post", "/api/orders/", order_body(table, food))

    placed, (tab, snapshot) = await asyncio.gather(place(), connect(f"/ws/tables/{table.pk}/"))
    in_snapshot = [o["id"] for o in snapshot["orders"]]
    if placed.json()["id"] not in in_snapshot:
        event = await next_event(tab)
        assert (event["seq"], event["order"]["id"]) == (snapshot["seq"] + 1, placed.json()["id"])
    else:
        assert snapshot["seq"] == 1
    await tab.disconnect()


# --- merged food state (the hub), the relay's retries ---------------------------------------------


@pytest.fixture
async def relay():
    """This test's process relay, on this test's loop (a served process starts one at startup)."""
    yield await broadcast.start_relay()
    broadcast.stop_relay()


async def test_stock_changes_of_one_food_reach_the_phones_as_its_first_change_then_its_latest(relay, settings):
    settings.FOOD_EVENT_SECONDS = 0.3
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)(stock=10)
    tab, _ = await connect(f"/ws/tables/{table.pk}/")

    for _ in range(5):
        assert (await call_api("post", "/api/orders/", order_body(table, food))).status_code == 201
    foods = []
    while not foods or foods[-1] != 5:  # (a timeout here would end the socket: receive until the latest)
        event = await tab.receive_json_from(timeout=TIMEOUT)
        if event["type"] == "food.updated":
            foods.append(event["food"]["stock"])

    assert foods[0] == 9  # the first change of a quiet food goes at once
    assert foods[-1] == 5  # and the latest state always follows
    assert len(foods) <= 3  # the four others within the window are merged
    await tab.disconnect()


async def test_every_change_of_a_food_raises_its_version_and_its_state_goes_out_with_it():
    """The version is what orders a food's states between processes (realtime.hub keeps the newer)."""
    food = await sync_to_async(FoodFactory)(stock=5)
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP_MENU, channel)

    @sync_to_async
    def version() -> int:
        return Food.objects.get(pk=food.pk).version

    async def sent() -> int:
        message = await asyncio.wait_for(layer.receive(channel), TIMEOUT)
        assert json.loads(message["text"])["food"]["id"] == food.pk
        return message["version"]

    start = await version()

    @sync_to_async
    def reserve_then_release():
        with transaction.atomic():
            services.stock_reserve(quantities={food.pk: 1})
        with transaction.atomic():
            services.stock_release(quantities={food.pk: 1})

    await reserve_then_release()
    changes = [await sent(), await sent()]
    await sync_to_async(services.food_update)(food_id=food.pk, price=9000)
    changes.append(await sent())

    assert changes == [start + 1, start + 2, start + 3] and await version() == start + 3
    edited = await sync_to_async(Food.objects.get)(pk=food.pk)
    edited.name = "새 이름"
    await sync_to_async(edited.save)()  # the admin's way
    assert await version() == start + 4
    await layer.group_discard(GROUP_MENU, channel)


async def test_sold_out_reaches_the_phones_within_the_window(relay, settings):
    settings.FOOD_EVENT_SECONDS = 0.3
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)(stock=2)
    tab, _ = await connect(f"/ws/tables/{table.pk}/")

    await call_api("post", "/api/orders/", order_body(table, food))
    await call_api("post", "/api/orders/", order_body(table, food))  # the last unit: sold out

    last = None
    for _ in range(6):
        event = await tab.receive_json_from(timeout=TIMEOUT)
        if event["type"] == "food.updated":
            last = event["food"]
            if last["sold_out"]:
                break
    assert last == {**last, "stock": 0, "sold_out": True}
    await tab.disconnect()


async def test_the_relay_keeps_an_event_until_the_layer_takes_it(relay, settings):
    """A channel layer that fails (Redis away) for a while: the event goes out once it answers again."""
    layer = get_channel_layer()
    failures = {"left": 3}
    real_send = layer.group_send

    async def flaky(group, message):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("redis away")
        await real_send(group, message)

    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)()
    tab, _ = await connect(f"/ws/tables/{table.pk}/")
    layer.group_send = flaky
    try:
        await call_api("post", "/api/orders/", order_body(table, food))
        event = await tab.receive_json_from(timeout=TIMEOUT)
    finally:
        layer.group_send = real_send

    assert failures["left"] == 0
    assert (event["type"], event["seq"]) == ("order.created", 1)
    await tab.disconnect()


async def test_an_event_that_cannot_be_encoded_does_not_stop_the_relay_for_the_others(relay):
    table, food = await sync_to_async(TableFactory)(), await sync_to_async(FoodFactory)()
    tab, _ = await connect(f"/ws/tables/{table.pk}/")

    def broken():
        raise TypeError("not JSON")

    relay.submit(broken)
    await call_api("post", "/api/orders/", order_body(table, food))

    event = await tab.receive_json_from(timeout=TIMEOUT)
    assert (event["type"], event["seq"]) == ("order.created", 1)
    assert relay.alive()
    await tab.disconnect()
