"""Every WS_HEARTBEAT_SECONDS each socket gets a `heartbeat` with its feed's latest seq (CONTRACT.md section 5).

One task per process: it reads the latest seq of the feeds that have sockets in this process (one query)
and writes one heartbeat per feed to all of that feed's sockets through the hub. A client whose last event
is behind the heartbeat has missed something (a Redis outage, a process that died before sending) and
reloads its snapshot. Other apps add fields (the menu's version) with `provide()`.

The feeds are spread over the period in PARTS beats, each feed always in the same one: a socket still gets
a heartbeat every WS_HEARTBEAT_SECONDS, but not every socket at the same moment. Every phone reads the
menu again after a heartbeat whose menu_version moved, and all of them at once was a spike of a
thousand reads in a second on top of whatever else that second held (docs/benchmarks.md).
"""

import asyncio
import logging
import zlib
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from realtime.broadcast import encode, feed_seqs
from realtime.hub import hub

logger = logging.getLogger(__name__)

PARTS = 15  # beats per period, each to the feeds of its part
MIN_BEAT_SECONDS = 0.2  # a short period (tests) has fewer parts

_providers: list[Callable[[], dict]] = []
_feed_prefixes: list[str] = []


def provide(fields: Callable[[], dict]) -> None:
    """Add fields to every heartbeat; `fields` runs in a sync thread (it may read the database)."""
    _providers.append(fields)


def numbered(*names_or_prefixes: str) -> None:
    """Groups that are numbered feeds: a name, or a prefix ending in '.' for a family (say, tables)."""
    _feed_prefixes.extend(names_or_prefixes)


def is_feed(group: str) -> bool:
    return any(group == p or (p.endswith(".") and group.startswith(p)) for p in _feed_prefixes)


def _positions(groups: list[str]) -> tuple[dict[str, int], dict]:
    extra: dict = {}
    for fields in _providers:
        extra.update(fields())
    return feed_seqs(groups), extra


def part_of(group: str, parts: int) -> int:
    return zlib.crc32(group.encode()) % parts  # the same in every process and every run


async def beat(part: int = 0, parts: int = 1) -> int:
    """One heartbeat to every feed socket of this process in part `part` of `parts` (by default, all);
    returns how many feeds got one."""
    current = hub()
    groups = [group for group in current.group_names() if is_feed(group) and part_of(group, parts) == part]
    if not groups:
        return 0
    seqs, extra = await database_sync_to_async(_positions, thread_sensitive=False)(groups)
    for group in groups:
        await current.send_to(group, encode("heartbeat", seq=seqs[group], **extra))
    return len(groups)


async def heartbeats() -> None:
    parts = max(1, min(PARTS, int(settings.WS_HEARTBEAT_SECONDS / MIN_BEAT_SECONDS)))
    part = 0
    while True:
        await asyncio.sleep(settings.WS_HEARTBEAT_SECONDS / parts)
        try:
            await beat(part, parts)
        except Exception:  # the database may be away for a while: this part's next beat tries again
            logger.warning("heartbeat failed", exc_info=True)
        part = (part + 1) % parts


async def start_heartbeats() -> None:
    """A process task (settings.PROCESS_TASKS)."""
    asyncio.get_running_loop().create_task(heartbeats())
