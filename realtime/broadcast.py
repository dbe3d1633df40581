"""Events to channel-layer groups, numbered per feed, sent only after the transaction that caused them commits.

Feed events (a table's tab, the kitchen, the staff screens) take their feed's next `seq` inside the causing
transaction (feed_advance). After the commit they are handed to this process's relay, which sends them in
order and keeps trying while Redis is away: a request never waits on Redis. What a relay cannot send (its
process died first) is noticed by the clients, which compare their last seq with the feed's latest in every
`heartbeat` (realtime.heartbeat) and reload their snapshot when they are behind.

State is not numbered: every change of a key (a food) goes out with its version, and each process's hub
merges a key's changes within FOOD_EVENT_SECONDS into one message to its sockets (realtime.hub), so the
phones see the same rate however many processes make the changes (send_state).
"""

import asyncio
import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from realtime.models import Feed

logger = logging.getLogger(__name__)

FORWARD = "event.forward"  # the one message type the hub passes on to its sockets
SEND_TIMEOUT_SECONDS = 2.0
RETRY_MAX_SECONDS = 2.0


def server_ts() -> str:
    return timezone.localtime().isoformat(timespec="milliseconds")


def encode(event_type: str, **payload) -> str:
    return json.dumps({"type": event_type, "ts": server_ts(), **payload}, cls=DjangoJSONEncoder, ensure_ascii=False)


# --- numbered feeds ---------------------------------------------------------------------------------


def feeds_advance(names: list[str]) -> dict[str, int]:
    """The next seq of each feed, in two statements. Their rows stay locked until the transaction ends (the
    UPDATE locks them in primary-key order, so two events' transactions never deadlock over them), so seqs
    follow the order in which events commit."""
    if Feed.objects.filter(name__in=names).update(seq=F("seq") + 1) < len(names):
        for name in set(names) - set(Feed.objects.filter(name__in=names).values_list("name", flat=True)):
            try:
                with transaction.atomic():
                    Feed.objects.create(name=name, seq=1)
            except IntegrityError:  # created meanwhile by another transaction: the next one after it
                Feed.objects.filter(name=name).update(seq=F("seq") + 1)
    return feed_seqs(names)


def feed_seqs(names: list[str]) -> dict[str, int]:
    """The latest seq of each feed (0 for a feed without events yet)."""
    found = dict(Feed.objects.filter(name__in=names).values_list("name", "seq"))
    return {name: found.get(name, 0) for name in names}


def send_event(feeds: list[str], event_type: str, **payload) -> None:
    """Number the event in each feed now; send it to each feed's group when the transaction commits."""
    advanced = feeds_advance(sorted(set(feeds)))
    seqs = sorted(advanced.items())

    def messages():
        return [(feed, {"type": FORWARD, "text": encode(event_type, seq=seq, **payload)}) for feed, seq in seqs]

    transaction.on_commit(lambda: _dispatch(messages))


def send_state(group: str, key: str, version: int, event_type: str, **payload) -> None:
    """State of `key` for `group` when the transaction commits; of two states of a key the higher `version`
    is the newer, and the hubs merge a key's states within FOOD_EVENT_SECONDS."""

    def messages():
        return [(group, {"type": FORWARD, "text": encode(event_type, **payload), "key": key, "version": version})]

    transaction.on_commit(lambda: _dispatch(messages))


# --- delivery ---------------------------------------------------------------------------------------


class Relay:
    """Sends this process's committed events in order on its event loop, retrying while the layer fails."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.task: asyncio.Task | None = None
        self.queue: asyncio.Queue = asyncio.Queue()

    def alive(self) -> bool:
        running = self.task is not None and not self.task.done()
        return running and not self.loop.is_closed() and self.loop.is_running()

    def submit(self, messages) -> None:
        """From any thread: `messages` is a callable giving [(group, channel-layer message)], encoded when it
        is sent."""
        self.loop.call_soon_threadsafe(self.queue.put_nowait, messages)

    async def run(self) -> None:
        layer = get_channel_layer()
        while True:
            try:
                messages = (await self.queue.get())()
            except Exception:  # an event that cannot be encoded must not end the relay for every other one
                logger.exception("event not encodable; dropped (the heartbeats still tell the clients)")
                continue
            delay, failing = 0.1, False
            while True:
                try:
                    await _send_all(layer, messages)
                except Exception as exc:
                    if not failing:
                        logger.warning("broadcast failed; retrying", extra={"error": repr(exc)})
                    failing = True
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
                    continue
                if failing:
                    logger.info("broadcast resumed")
                break


_relay: Relay | None = None


async def start_relay() -> Relay:
    """A process task (settings.PROCESS_TASKS): this process's relay, on its event loop."""
    global _relay
    relay = Relay(asyncio.get_running_loop())
    relay.task = asyncio.get_running_loop().create_task(relay.run())
    _relay = relay
    return relay


def stop_relay() -> None:
    """Events committed from now on are sent at once, at most once (as in a process without a relay)."""
    global _relay
    if _relay is not None and _relay.task is not None:
        _relay.task.cancel()
    _relay = None


def _dispatch(messages) -> None:
    relay = _relay
    if relay is not None and relay.alive():
        relay.submit(messages)
    else:  # no relay in this process (a management command): at once, at most once
        send_now(messages())


def send_now(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, messages)
    except Exception as exc:  # the data is committed; the clients' heartbeats notice what is missing
        logger.warning("broadcast failed", extra={"groups": [g for g, _ in messages], "error": repr(exc)})


async def _send_all(layer, messages: list[tuple[str, dict]]) -> None:
    async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
        for group, message in messages:
            await layer.group_send(group, message)
