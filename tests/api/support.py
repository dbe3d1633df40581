"""Helpers shared by tests/api, tests/services and tests/concurrency."""

import asyncio
import json

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from kitchen.models import StaffCall
from ordering.models import Food, Order, OrderItem, Table

DRAIN_WAIT_SECONDS = 0.05
IN_MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def db_state() -> dict:
    """Every row a request of the ordering core could write, to assert that a refused one wrote nothing."""
    return {
        "orders": list(Order.objects.order_by("pk").values()),
        "items": list(OrderItem.objects.order_by("pk").values()),
        "foods": list(Food.objects.order_by("pk").values()),
        "tables": list(Table.objects.order_by("pk").values()),
        "staff_calls": list(StaffCall.objects.order_by("pk").values()),
    }


class EventRecorder:
    """A test channel in groups of the channel layer: what a kitchen screen or table tab would receive."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()

    def subscribe(self, *groups: str) -> "EventRecorder":
        for group in groups:
            async_to_sync(self.layer.group_add)(group, self.channel)
        return self

    def drain(self) -> list[dict]:
        """The events received so far (decoded from each envelope), without waiting for more."""
        return async_to_sync(self._drain)()

    async def _drain(self) -> list[dict]:
        received = []
        # Only what is queued: receive() waits for a message, so a short wait that ends empty-handed ends it.
        while True:
            try:
                envelope = await asyncio.wait_for(self.layer.receive(self.channel), DRAIN_WAIT_SECONDS)
            except TimeoutError:
                return received
            received.append(json.loads(envelope["text"]))

    def types(self) -> list[str]:
        return [event["type"] for event in self.drain()]
