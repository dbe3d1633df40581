"""realtime.hub: one channel per group per process, every member socket written in one pass."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from config.asgi import application
from ordering import events, services
from realtime import hub as fanout
from realtime.consumers import EventConsumer
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3


async def open_tab(table) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, f"/ws/tables/{table.pk}/")
    assert (await communicator.connect(timeout=TIMEOUT))[0]
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "snapshot"
    return communicator


async def test_sockets_of_a_group_share_one_channel_and_the_last_one_out_leaves_the_group():
    table = await sync_to_async(TableFactory)()
    tabs = [await open_tab(table) for _ in range(3)]
    hub = fanout.hub()
    group = hub.groups[events.table_group(table.pk)]
    assert len(group.members) == 3
    assert hub.groups[events.GROUP_MENU].channel != group.channel

    await tabs[0].disconnect()
    await tabs[1].disconnect()
    assert events.table_group(table.pk) in hub.groups
    await tabs[2].disconnect()
    assert events.table_group(table.pk) not in hub.groups
    menu = hub.groups.get(events.GROUP_MENU)  # the process's menu follower may stay (if its tasks started here)
    assert menu is None or not any(isinstance(member, EventConsumer) for member in menu.members)
    await asyncio.sleep(0)
    assert group.pump.done()  # its channel is dropped with it


async def test_one_event_reaches_every_socket_of_its_group_once():
    table, other = await sync_to_async(TableFactory)(), await sync_to_async(TableFactory)()
    tabs = [await open_tab(table) for _ in range(3)]
    elsewhere = await open_tab(other)

    await get_channel_layer().group_send(
        events.table_group(table.pk), {"type": "event.forward", "text": '{"type": "order.created", "n": 1}'}
    )

    for tab in tabs:
        assert await tab.receive_json_from(timeout=TIMEOUT) == {"type": "order.created", "n": 1}
        assert await tab.receive_nothing(timeout=0.2)
    assert await elsewhere.receive_nothing(timeout=0.2)
    for tab in [*tabs, elsewhere]:
        await tab.disconnect()


async def test_a_sold_out_switch_reaches_tabs_of_every_table():
    tables = [await sync_to_async(TableFactory)() for _ in range(3)]
    food = await sync_to_async(FoodFactory)()
    tabs = [await open_tab(table) for table in tables]

    await sync_to_async(services.food_update)(food_id=food.pk, sold_out=True)

    for tab in tabs:
        event = await tab.receive_json_from(timeout=TIMEOUT)
        assert (event["type"], event["food"]["id"], event["food"]["sold_out"]) == ("food.updated", food.pk, True)
        await tab.disconnect()


class Recorder:
    def __init__(self, fail=False):
        self.fail, self.got = fail, []

    async def forward(self, text):
        if self.fail:
            raise ConnectionError("socket gone")
        self.got.append(text)


async def test_a_failing_socket_does_not_stop_the_others():
    hub = fanout.hub()
    first, broken, last = Recorder(), Recorder(fail=True), Recorder()
    for member in (first, broken, last):
        await hub.join("test.group", member)

    await get_channel_layer().group_send("test.group", {"type": "event.forward", "text": "x"})
    for _ in range(100):
        if last.got:
            break
        await asyncio.sleep(0.01)

    assert first.got == ["x"] and last.got == ["x"]
    for member in (first, broken, last):
        await hub.leave("test.group", member)
    assert "test.group" not in hub.groups


async def test_events_that_arrive_before_the_snapshot_follow_it_in_order():
    sent = []
    consumer = EventConsumer()

    async def base_send(message):
        sent.append(json.loads(message["text"])["type"])

    consumer.base_send = base_send
    consumer.pending = []  # joined, snapshot not out yet

    await consumer.forward('{"type": "order.created"}')
    await consumer.forward('{"type": "food.updated"}')
    assert sent == []
    await consumer.send_snapshot(orders=[])
    await consumer.forward('{"type": "order.updated"}')

    assert sent == ["snapshot", "order.created", "food.updated", "order.updated"]


async def received(member: Recorder, count: int, seconds: float = TIMEOUT) -> list[str]:
    for _ in range(int(seconds / 0.01)):
        if len(member.got) >= count:
            break
        await asyncio.sleep(0.01)
    return member.got


async def test_states_of_one_key_from_two_processes_reach_a_socket_as_the_first_then_the_newest(settings):
    """Each process sends every change of a food; the hub where the sockets are merges them, so a phone
    gets the same few messages however many processes made the changes."""
    settings.FOOD_EVENT_SECONDS = 0.3
    hub, phone = fanout.hub(), Recorder()
    await hub.join("test.menu", phone)
    layer = get_channel_layer()

    for version in (1, 2, 4, 3):  # as two processes send them: 3 crosses 4 on the way
        await layer.group_send(
            "test.menu", {"type": "event.forward", "text": f"v{version}", "key": "f", "version": version}
        )
    await layer.group_send("test.menu", {"type": "event.forward", "text": "w1", "key": "g", "version": 1})

    assert await received(phone, 2, seconds=0.2) == ["v1", "w1"]  # each quiet key's first change at once
    assert await received(phone, 3) == ["v1", "w1", "v4"]  # then its newest, within the window
    await asyncio.sleep(0.4)
    assert phone.got == ["v1", "w1", "v4"]

    await layer.group_send("test.menu", {"type": "event.forward", "text": "v3", "key": "f", "version": 3})
    await layer.group_send("test.menu", {"type": "event.forward", "text": "v5", "key": "f", "version": 5})
    assert await received(phone, 4) == ["v1", "w1", "v4", "v5"]  # an older state never follows a newer one
    await hub.leave("test.menu", phone)


async def test_a_lower_version_long_after_the_last_state_is_written_as_it_comes(settings, monkeypatch):
    """Versions set back by hand (a restored database) must not mute a food until the process restarts."""
    settings.FOOD_EVENT_SECONDS = 0.05
    monkeypatch.setattr(fanout, "STATE_ORDER_SECONDS", 0.2)
    hub, phone = fanout.hub(), Recorder()
    await hub.join("test.menu", phone)
    layer = get_channel_layer()

    await layer.group_send("test.menu", {"type": "event.forward", "text": "v9", "key": "f", "version": 9})
    await layer.group_send("test.menu", {"type": "event.forward", "text": "v8", "key": "f", "version": 8})
    assert await received(phone, 1) == ["v9"]
    await asyncio.sleep(0.3)
    await layer.group_send("test.menu", {"type": "event.forward", "text": "v2", "key": "f", "version": 2})

    assert await received(phone, 2) == ["v9", "v2"]
    await hub.leave("test.menu", phone)
