"""What gets broadcast, to which groups, and when: always after the causing transaction commits.

Delivery is at-most-once (CONTRACT.md section 5): a channel-layer failure is logged and never fails
or rolls back the request; clients resync from the snapshot when they reconnect.
"""

import asyncio
import json
import logging
import uuid
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from config import pubsub
from ordering.models import Food, Order, OrderStatus, Table
from ordering.serializers import food_data, order_data, table_data

logger = logging.getLogger(__name__)

GROUP_KITCHEN = "kitchen"
GROUP_MENU = "menu"  # every table tab and the kitchen board
SEND_TIMEOUT_SECONDS = 2.0


def table_group(table_id: uuid.UUID | str) -> str:
    return f"table.{(table_id if isinstance(table_id, uuid.UUID) else uuid.UUID(str(table_id))).hex}"


def server_ts() -> str:
    return timezone.localtime().isoformat(timespec="milliseconds")


def broadcast(groups: Iterable[str], event_type: str, **payload) -> None:
    """Queue one event for the groups; it is sent when the current transaction commits.

    The payload is built now (what the transaction wrote, rendered by the serializers into plain values)
    and encoded once, when it is sent, with the time it is sent.
    """
    groups = list(dict.fromkeys(groups))
    message = {"type": event_type, **payload}
    transaction.on_commit(lambda: send_now(groups, message))


def send_now(groups: list[str], message: dict) -> None:
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        text = json.dumps({**message, "ts": server_ts()}, cls=DjangoJSONEncoder, ensure_ascii=False)
        envelope = {"type": "event.forward", "text": text}
        publisher = pubsub.publisher_for(layer, SEND_TIMEOUT_SECONDS)
        if publisher is not None:
            publisher.send(groups, envelope)  # Redis: from this thread, one round trip (config/pubsub.py)
        else:
            async_to_sync(_group_send_all)(layer, groups, envelope)
    except Exception as exc:  # the channel layer is best effort; the data is already committed
        logger.warning("broadcast failed", extra={"event_type": message["type"], "groups": groups, "error": repr(exc)})
    else:
        logger.debug("broadcast", extra={"event_type": message["type"], "groups": groups})


async def _group_send_all(layer, groups: list[str], envelope: dict) -> None:
    async with asyncio.timeout(SEND_TIMEOUT_SECONDS):
        for group in groups:  # one after the other: a task per group cost more than the wait
            await layer.group_send(group, envelope)


# --- the events of CONTRACT.md section 5 -----------------------------------------------------------


# Payloads are built inside the transaction (what was committed), sent after it.


def order_created(order: Order) -> None:
    groups = [table_group(order.table_id)]
    if order.status == OrderStatus.COMPLETED:
        groups.append(GROUP_KITCHEN)  # a ticket to cook; unpaid pre-orders stay off the board
    broadcast(groups, "order.created", order=order_data(order))


def order_paid(order: Order) -> None:
    broadcast([table_group(order.table_id), GROUP_KITCHEN], "order.paid", order=order_data(order))


def order_updated(order: Order) -> None:
    if order.archived_at is not None:
        return  # reset off the tab and the board (table.reset); a late change must not bring it back
    broadcast([table_group(order.table_id), GROUP_KITCHEN], "order.updated", order=order_data(order))


def food_updated(food: Food) -> None:
    broadcast([GROUP_MENU], "food.updated", food=food_data(food))


def table_reset(table_id) -> None:
    broadcast([table_group(table_id), GROUP_KITCHEN], "table.reset", table_id=str(table_id))


def staff_called(table: Table, message: str) -> None:
    broadcast([GROUP_KITCHEN], "staff.called", table=table_data(table), message=message)
