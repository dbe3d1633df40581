"""The events of CONTRACT.md section 5 raised by orders, foods and tables, and the groups they go to.

Payloads are rendered inside the causing transaction (what it wrote) and sent after it commits
(realtime.broadcast).
"""

import uuid

from ordering.models import Food, Order, OrderStatus, Table
from ordering.serializers import FoodSerializer, TableSerializer, order_render
from realtime.broadcast import broadcast

GROUP_KITCHEN = "kitchen"
GROUP_MENU = "menu"  # every table tab and the kitchen board


def table_group(table_id: uuid.UUID | str) -> str:
    return f"table.{(table_id if isinstance(table_id, uuid.UUID) else uuid.UUID(str(table_id))).hex}"


def order_created(order: Order) -> None:
    groups = [table_group(order.table_id)]
    if order.status == OrderStatus.COMPLETED:
        groups.append(GROUP_KITCHEN)  # a ticket to cook; unpaid pre-orders stay off the board
    broadcast(groups, "order.created", order=order_render(order))


def order_paid(order: Order) -> None:
    broadcast([table_group(order.table_id), GROUP_KITCHEN], "order.paid", order=order_render(order))


def order_updated(order: Order) -> None:
    if order.archived_at is not None:
        return  # reset off the tab and the board (table.reset); a late change must not bring it back
    broadcast([table_group(order.table_id), GROUP_KITCHEN], "order.updated", order=order_render(order))


def food_updated(food: Food) -> None:
    broadcast([GROUP_MENU], "food.updated", food=FoodSerializer(food).data)


def table_reset(table_id) -> None:
    broadcast([table_group(table_id), GROUP_KITCHEN], "table.reset", table_id=str(table_id))


def staff_called(table: Table, message: str) -> None:
    broadcast([GROUP_KITCHEN], "staff.called", table=TableSerializer(table).data, message=message)
