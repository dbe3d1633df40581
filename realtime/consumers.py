"""The base of every socket of the contract: group membership through the hub, snapshot, ping/pong, errors."""

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime import hub
from realtime.broadcast import server_ts


class EventConsumer(AsyncJsonWebsocketConsumer):
    # No channel of its own: group events come through realtime.hub, one channel per group per process.
    channel_layer_alias = None
    joined: list[str]
    # Events that arrive between joining and the snapshot, sent right after it (None once it is out).
    pending: list[str] | None

    async def join(self, groups: list[str]) -> None:
        # Join before reading the snapshot: an event raised meanwhile waits behind it, not lost.
        self.joined, self.pending = [], []
        for group in groups:
            await hub.hub().join(group, self)
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
            await hub.hub().leave(group, self)

    async def send_event(self, event_type: str, **payload) -> None:
        await self.send_json({"type": event_type, "ts": server_ts(), **payload})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            return await self.send_event("error", code="unsupported_message", detail="텍스트(JSON) 메시지만 받습니다.")
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
            return await self.send_event("error", code="malformed_message", detail="JSON을 읽을 수 없습니다.")
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            return await self.send_event("pong")
        await self.send_event("error", code="unknown_message", detail="알 수 없는 메시지입니다.")
