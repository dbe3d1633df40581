"""Events to channel-layer groups, sent only after the transaction that caused them commits.

The payload is built inside the transaction (what it wrote) and encoded once, when it is sent, for every
socket of every group: the per-process hub (realtime.hub) writes the same text to each member socket.
Delivery through the channel layer is at-most-once: a failure is logged and never fails or rolls back the
request that caused the event.
"""

import asyncio
import json
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

FORWARD = "event.forward"  # the one message type the hub passes on to its sockets
SEND_TIMEOUT_SECONDS = 2.0


def server_ts() -> str:
    return timezone.localtime().isoformat(timespec="milliseconds")


def encode(event_type: str, **payload) -> str:
    return json.dumps({"type": event_type, "ts": server_ts(), **payload}, cls=DjangoJSONEncoder, ensure_ascii=False)


def broadcast(groups: Iterable[str], event_type: str, **payload) -> None:
    """Queue one event for the groups; it is sent when the current transaction commits."""
    groups = list(dict.fromkeys(groups))
    transaction.on_commit(lambda: send_now(groups, event_type, payload))


def send_now(groups: list[str], event_type: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": FORWARD, "text": encode(event_type, **payload)}
    try:
        async_to_sync(_group_send_all)(layer, groups, message)
    except Exception as exc:  # the data is already committed; clients resync from their snapshot
        logger.warning("broadcast failed", extra={"event_type": event_type, "groups": groups, "error": repr(exc)})
    else:
        logger.debug("broadcast", extra={"event_type": event_type, "groups": groups})


async def _group_send_all(layer, groups: list[str], message: dict) -> None:
    async with asyncio.timeout(SEND_TIMEOUT_SECONDS):  # a stalled Redis must not hold the request
        for group in groups:
            await layer.group_send(group, message)
