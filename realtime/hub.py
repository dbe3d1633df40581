"""Group events reach this process's sockets through one channel-layer channel per group.

With a channel per socket (Channels' default), one sold-out switch seen by every phone is one queued
message per socket, each waking its consumer's task, deserialized and dispatched on its own (measured in
docs/benchmarks.md). Here the process joins each group once, with a channel of its own, as soon as one of its
sockets needs the group, and leaves it with the last one; each event is received once and its text, encoded
once by the sender (realtime.broadcast), is written to every member socket in one pass.

State messages (a food's, with its key and version) are merged here, where the sockets are: the first
change of a quiet key is written at once, the later ones within FOOD_EVENT_SECONDS as one, the newest
(CONTRACT.md section 5). Merging where the changes are made instead would let every process send its own
first change, so each phone would get one message per process.

Per event loop (Daphne runs one; tests run one per test), since channels and tasks belong to a loop.
"""

import asyncio
import logging
import weakref
from typing import Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from realtime.broadcast import FORWARD

logger = logging.getLogger(__name__)


# Two states of a key cross in Redis within moments; one that comes this long after the last is taken as it
# is, so that versions set back by hand (a restored database) cannot mute a food until the process restarts.
STATE_ORDER_SECONDS = 30.0


class Member(Protocol):
    async def forward(self, text: str) -> None: ...


class _Group:
    def __init__(self, channel: str):
        self.channel = channel
        self.members: dict[Member, None] = {}  # insertion-ordered set
        self.pump: asyncio.Task | None = None
        self.state_sent: dict[str, tuple[float, int]] = {}  # key -> when its state was last written, version
        self.state_pending: dict[str, tuple[int, str]] = {}  # key -> (version, text) to write when due


class Hub:
    def __init__(self, layer):
        self.layer = layer
        self.groups: dict[str, _Group] = {}
        self.lock = asyncio.Lock()
        self.flushes: set[asyncio.Task] = set()

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

    async def _state(self, group: str, entry: _Group, key: str, version: int, text: str) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        sent_at, sent_version = entry.state_sent.get(key, (0.0, -1))
        if version <= sent_version and now - sent_at < STATE_ORDER_SECONDS:
            return  # an older state than one just written (two processes' changes crossed)
        pending = entry.state_pending.get(key)
        if pending is not None:
            if version > pending[0]:
                entry.state_pending[key] = (version, text)
            return
        due = sent_at + settings.FOOD_EVENT_SECONDS
        if now >= due:  # a quiet key: at once
            self._state_written(entry, key, version, now)
            await self._forward(group, entry, text)
            return
        entry.state_pending[key] = (version, text)
        loop.call_later(due - now, self._state_due, group, entry, key)

    def _state_due(self, group: str, entry: _Group, key: str) -> None:
        version, text = entry.state_pending.pop(key)
        self._state_written(entry, key, version, asyncio.get_running_loop().time())
        task = asyncio.create_task(self._forward(group, entry, text))
        self.flushes.add(task)
        task.add_done_callback(self.flushes.discard)

    @staticmethod
    def _state_written(entry: _Group, key: str, version: int, now: float) -> None:
        entry.state_sent[key] = (now, version)
        if len(entry.state_sent) > 10_000:  # past STATE_ORDER_SECONDS a key's entry decides nothing more
            entry.state_sent = {k: v for k, v in entry.state_sent.items() if now - v[0] < STATE_ORDER_SECONDS}

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
            text, key, version = message.get("text"), message.get("key"), message.get("version")
            if message.get("type") != FORWARD or not isinstance(text, str):
                logger.warning("unexpected group message dropped", extra={"group": group})
            elif isinstance(key, str) and isinstance(version, int):
                await self._state(group, entry, key, version, text)
            else:
                await self._forward(group, entry, text)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    layer = get_channel_layer()
    current = _hubs.get(loop)
    if current is None or current.layer is not layer:
        current = _hubs[loop] = Hub(layer)
    return current
