"""Thin WebSocket consumers: snapshot on connect, forward group events, answer ping."""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from ordering import events, fanout, selectors
from ordering.errors import NotFound
from ordering.serializers import OrderSerializer, TableSerializer


class EventConsumer(AsyncJsonWebsocketConsumer):
    """Base for every socket of the contract: groups, ping/pong, error answers, event forwarding."""

    # No channel of its own: group events come through ordering.fanout, one channel per group per process.
    channel_layer_alias = None
    joined: list[str]
    # Events that arrive between joining and the snapshot, sent right after it (None once it is out).
    pending: list[str] | None

    async def join(self, groups: list[str]) -> None:
        # Join before reading the snapshot: an event raised meanwhile waits behind it, not lost.
        self.joined, self.pending = [], []
        for group in groups:
            await fanout.hub().join(group, self)
            self.joined.append(group)

    async def send_snapshot(self, **snapshot) -> None:
        await self.send_event("snapshot", **snapshot)
        pending, self.pending = self.pending, None
        for text in pending:
            await self.send(text_data=text)

    async def forward(self, text: str) -> None:
        """A group event, already encoded by the sender for every socket."""
        if self.pending is not None:
            self.pending.append(text)
        else:
            await self.send(text_data=text)

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await fanout.hub().leave(group, self)

    async def send_event(self, event_type: str, **payload) -> None:
        await self.send_json({"type": event_type, "ts": events.server_ts(), **payload})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            return await self.send_event("error", code="unsupported_message", detail="텍스트(JSON) 메시지만 받습니다.")
        try:
            content = json.loads(text_data)
        except ValueError:
            return await self.send_event("error", code="malformed_message", detail="JSON을 읽을 수 없습니다.")
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            return await self.send_event("pong")
        await self.send_event("error", code="unknown_message", detail="알 수 없는 메시지입니다.")


@database_sync_to_async
def _table_snapshot(table_id) -> dict:
    table = selectors.table_get(table_id=table_id)
    return {
        "table": TableSerializer(table).data,
        "orders": OrderSerializer(selectors.table_tab_orders(table_id=table.pk), many=True).data,
        "foods": selectors.menu_data(),
    }


class TableConsumer(EventConsumer):
    """/ws/tables/{table_id}/: the customer's tab. The table's UUID is the key."""

    async def connect(self):
        await self.accept()
        try:
            table_id = selectors.parse_uuid(
                self.scope["url_route"]["kwargs"]["table_id"], code="table_not_found", detail=""
            )
            await self.join([events.table_group(table_id), events.GROUP_MENU])
            snapshot = await _table_snapshot(table_id)
        except NotFound:
            return await self.close(code=4404)
        await self.send_snapshot(**snapshot)
