"""Every WS_HEARTBEAT_SECONDS each socket gets a `heartbeat` with its feed's latest seq (CONTRACT.md section 5).

One task per process: it reads the latest seq of every feed that has sockets in this process (one query)
and writes one heartbeat per feed to all of that feed's sockets through the hub. A client whose last event
is behind the heartbeat has missed something (a Redis outage, a process that died before sending) and
reloads its snapshot. Other apps add fields (the menu's version) with `provide()`.
"""

import asyncio
import logging
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from realtime.broadcast import encode, feed_seqs
from realtime.hub import hub

logger = logging.getLogger(__name__)

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


async def beat() -> int:
    """One heartbeat to every feed socket of this process; returns how many feeds got one."""
    current = hub()
    groups = [group for group in current.group_names() if is_feed(group)]
    if not groups:
        return 0
    seqs, extra = await database_sync_to_async(_positions, thread_sensitive=False)(groups)
    for group in groups:
        await current.send_to(group, encode("heartbeat", seq=seqs[group], **extra))
    return len(groups)


async def heartbeats() -> None:
    while True:
        await asyncio.sleep(settings.WS_HEARTBEAT_SECONDS)
        try:
            await beat()
        except Exception:  # the database may be away for a while: the next beat tries again
            logger.warning("heartbeat failed", exc_info=True)


async def start_heartbeats() -> None:
    """A process task (settings.PROCESS_TASKS)."""
    asyncio.get_running_loop().create_task(heartbeats())
