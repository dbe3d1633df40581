"""Group events reach this process's sockets through one channel-layer channel per group.

With a channel per socket (Channels' default), one sold-out switch seen by 1,000 phones is 1,000 queued
messages, each waking its consumer's task, deserialized and dispatched on its own: a third of the
fan-out's time. Here the process joins each group once, with a channel of its own, as soon as one of its
sockets needs the group, and leaves it with the last one; each event is received once and its text, encoded
once by the sender (realtime.broadcast), is written to every member socket in one pass.

Per event loop (Daphne runs one; tests run one per test), since channels and tasks belong to a loop.
"""

import asyncio
import logging
import weakref
from typing import Protocol

from channels.layers import get_channel_layer

from realtime.broadcast import FORWARD

logger = logging.getLogger(__name__)


class Member(Protocol):
    async def forward(self, text: str) -> None: ...


class _Group:
    def __init__(self, channel: str):
        self.channel = channel
        self.members: dict[Member, None] = {}  # insertion-ordered set
        self.pump: asyncio.Task | None = None


class Hub:
    def __init__(self, layer):
        self.layer = layer
        self.groups: dict[str, _Group] = {}
        self.lock = asyncio.Lock()

    async def join(self, group: str, member: Member) -> None:
        """Raises if the channel layer cannot be reached; the member is then not in the group."""
        async with self.lock:
            entry = self.groups.get(group)
            if entry is None:
                entry = _Group(await self.layer.new_channel())
                try:
                    await self.layer.group_add(group, entry.channel)
                except Exception:
                    # Right after Redis comes back the layer's first call may still hold the dead
                    # connection; one retry reconnects instead of failing the socket.
                    await self.layer.group_add(group, entry.channel)
                entry.pump = asyncio.create_task(self._pump(group, entry))
                self.groups[group] = entry
            entry.members[member] = None

    async def leave(self, group: str, member: Member) -> None:
        async with self.lock:
            entry = self.groups.get(group)
            if entry is None or member not in entry.members:
                return
            del entry.members[member]
            if entry.members:
                return
            del self.groups[group]
        entry.pump.cancel()  # the layer drops the channel when its receive is cancelled
        try:
            await self.layer.group_discard(group, entry.channel)
        except Exception:
            logger.warning("channel layer group_discard failed", extra={"group": group}, exc_info=True)

    def group_names(self) -> list[str]:
        """The groups this process's sockets are in now."""
        return list(self.groups)

    async def send_to(self, group: str, text: str) -> None:
        """Write `text` to every socket of this process in `group` (a heartbeat, which is per process)."""
        entry = self.groups.get(group)
        if entry is not None:
            await self._forward(group, entry, text)

    async def _forward(self, group: str, entry: _Group, text: str) -> None:
        for member in list(entry.members):
            try:
                await member.forward(text)
            except Exception:  # one socket's failure never stops the others
                logger.debug("forward to a socket failed", extra={"group": group}, exc_info=True)

    async def _pump(self, group: str, entry: _Group) -> None:
        while True:
            try:
                message = await self.layer.receive(entry.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("channel layer receive failed", extra={"group": group}, exc_info=True)
                await asyncio.sleep(1)
                continue
            text = message.get("text")
            if message.get("type") != FORWARD or not isinstance(text, str):
                logger.warning("unexpected group message dropped", extra={"group": group})
                continue
            await self._forward(group, entry, text)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    current = _hubs.get(loop)
    if current is None or current.layer is not layer:
        current = _hubs[loop] = Hub(layer)
    return current
