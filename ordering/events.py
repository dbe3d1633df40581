"""The events of CONTRACT.md section 5 raised by orders, foods and tables, and the feeds they go to.

Payloads are rendered inside the causing transaction (what it wrote); feed events are numbered there too and
sent after it commits (realtime.broadcast). Call these last in a transaction: each locks its feeds' rows
until the commit.
"""

import uuid

from ordering.models import Cart, Food, Order, OrderStatus, Table
from ordering.serializers import CartSerializer, FoodSerializer, TableSerializer, order_render
from realtime.broadcast import send_event, send_state

GROUP_KITCHEN = "kitchen"
GROUP_STAFF = "staff"  # the staff screens (/ws/staff/): every order, table and call, and payments to look at
GROUP_MENU = "menu"  # every table tab and the kitchen board: foods are state, not a numbered feed
TABLE_GROUP_PREFIX = "table."


def table_group(table_id: uuid.UUID | str) -> str:
    return f"{TABLE_GROUP_PREFIX}{(table_id if isinstance(table_id, uuid.UUID) else uuid.UUID(str(table_id))).hex}"


def order_created(order: Order) -> None:
    feeds = [table_group(order.table_id), GROUP_STAFF]
    if order.status == OrderStatus.COMPLETED:
        feeds.append(GROUP_KITCHEN)  # a ticket to cook; unpaid pre-orders stay off the board
    send_event(feeds, "order.created", order=order_render(order))


def order_paid(order: Order) -> None:
    # Paid after a reset ended its session: a ticket for the kitchen, not news for the next guests' phones.
    feeds = [GROUP_KITCHEN, GROUP_STAFF]
    if order.archived_at is None:
        feeds.append(table_group(order.table_id))
    send_event(feeds, "order.paid", order=order_render(order))


def order_updated(order: Order) -> None:
    # An order a reset took off the tab and the board (table.reset) stays off them; its late changes (expiry,
    # refund) still reach the staff screens, which list unpaid pre-orders and money.
    feeds = [GROUP_STAFF]
    if order.archived_at is None:
        feeds.append(table_group(order.table_id))
    if order.on_board:
        feeds.append(GROUP_KITCHEN)
    send_event(feeds, "order.updated", order=order_render(order))


def food_updated(food: Food) -> None:
    """State: the changes of one food within FOOD_EVENT_SECONDS reach the phones as one, its latest."""
    send_state(GROUP_MENU, f"food.{food.pk}", food.version, "food.updated", food=FoodSerializer(food).data)


def table_reset(table_id) -> None:
    send_event([table_group(table_id), GROUP_KITCHEN, GROUP_STAFF], "table.reset", table_id=str(table_id))


def cart_updated(cart: Cart) -> None:
    send_event([table_group(cart.table_id)], "cart.updated", cart=CartSerializer(cart).data)


def table_opened(table: Table) -> None:
    send_event([table_group(table.pk), GROUP_KITCHEN, GROUP_STAFF], "table.opened", table=TableSerializer(table).data)


def table_closed(table: Table) -> None:
    send_event([table_group(table.pk), GROUP_KITCHEN, GROUP_STAFF], "table.closed", table=TableSerializer(table).data)
