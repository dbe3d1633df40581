"""config.pubsub: events published from the request's thread reach sockets subscribed through the layer."""

import asyncio
import os
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from config import pubsub

REDIS_URL = os.environ.get("REDIS_URL")


def pubsub_layer(settings, hosts) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": hosts, "prefix": f"t{uuid.uuid4().hex[:8]}"},
        }
    }


@pytest.mark.integration
@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (CI runs it on Redis + MariaDB)")
async def test_one_send_reaches_every_group_as_the_layers_own_group_send_would(settings):
    pubsub_layer(settings, [REDIS_URL])
    layer = get_channel_layer()
    kitchen, tab = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("kitchen", kitchen)
    await layer.group_add("table.abc", tab)
    publisher = pubsub.publisher_for(layer, 2.0)
    message = {"type": "event.forward", "text": '{"type": "order.created"}'}
    receives: dict[str, asyncio.Future] = {}
    try:
        # A SUBSCRIBE sent on the layer's connection may still be on its way when the PUBLISH arrives on
        # ours: send again until both have one (Redis pub/sub keeps nothing for late subscribers). The
        # receives are never cancelled: the pub/sub layer drops a channel whose receive is cancelled.
        receives = {
            "kitchen": asyncio.ensure_future(layer.receive(kitchen)),
            "tab": asyncio.ensure_future(layer.receive(tab)),
        }
        for _ in range(50):
            await sync_to_async(publisher.send)(["kitchen", "table.abc"], message)
            await asyncio.wait(receives.values(), timeout=0.1)
            if all(task.done() for task in receives.values()):
                break
        received = {name: task.result() for name, task in receives.items() if task.done()}
        assert received == {"kitchen": message, "tab": message}
    finally:
        for task in receives.values():
            task.cancel()
        await layer.flush()


def test_the_in_memory_layer_and_sentinel_hosts_keep_the_layers_own_group_send(settings):
    assert pubsub.publisher_for(InMemoryChannelLayer(), 2.0) is None

    pubsub_layer(settings, [{"master_name": "pub", "sentinels": [("127.0.0.1", 26379)]}])
    assert pubsub.publisher_for(get_channel_layer(), 2.0) is None

    pubsub_layer(settings, ["redis://127.0.0.1:6379/0"])
    assert isinstance(pubsub.publisher_for(get_channel_layer(), 2.0), pubsub.GroupPublisher)
