"""Reads. Every function here costs a fixed number of queries, whatever the size of the history."""

import uuid
from collections.abc import Callable

from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from ordering.errors import NotFound
from ordering.models import (
    FULLY_REFUNDED,
    MAX_DB_ID,
    ON_BOARD,
    UUID_TEXT,
    Cart,
    Food,
    KitchenStatus,
    Order,
    OrderItem,
    OrderStatus,
    Refund,
    Table,
)
from realtime.models import Feed

SPENT = Sum(F("total_amount") - F("refunded_amount"))


def parse_uuid(value, *, missing: Callable[[], NotFound]) -> uuid.UUID:
    """A UUID path id; anything else is the `missing()` 404, as an unknown one is."""
    if isinstance(value, uuid.UUID):
        return value
    if not (isinstance(value, str) and UUID_TEXT.fullmatch(value)):
        raise missing()
    return uuid.UUID(value)


def parse_int_id(value, *, missing: Callable[[], NotFound]) -> int:
    """A numeric path id: ASCII digits only (int() would also take "１", " 1" and "1_0"), within a database key."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_DB_ID:
        raise missing()
    return int(text)


def table_not_found() -> NotFound:
    return NotFound("테이블을 찾을 수 없습니다.", code="table_not_found")


def order_not_found() -> NotFound:
    return NotFound("주문을 찾을 수 없습니다.", code="order_not_found")


def food_not_found() -> NotFound:
    return NotFound("메뉴를 찾을 수 없습니다.", code="food_not_found")


# --- foods ------------------------------------------------------------------------------------------


def next_display_order() -> int:
    """After every dish on the menu: where a new one goes."""
    return (Food.objects.aggregate(last=Max("display_order"))["last"] or 0) + 1


def food_get(*, food_id) -> Food:
    pk = parse_int_id(food_id, missing=food_not_found)
    try:
        return Food.objects.get(pk=pk)
    except Food.DoesNotExist:
        raise food_not_found() from None


# --- tables -----------------------------------------------------------------------------------------


def _tab_orders(table_id) -> QuerySet[Order]:
    """The table's current session: orders not archived by a reset."""
    return Order.objects.filter(table_id=table_id, archived_at__isnull=True)


def table_total_spent(*, table_id) -> int:
    return _tab_orders(table_id).filter(status=OrderStatus.COMPLETED).aggregate(s=SPENT)["s"] or 0


def table_row(*, table_id, lock: bool = False) -> Table:
    """The table's row (404 table_not_found); `lock` inside a write."""
    tables = Table.objects.select_for_update() if lock else Table.objects
    table = tables.filter(pk=parse_uuid(table_id, missing=table_not_found)).first()
    if table is None:
        raise table_not_found()
    return table


def table_get(*, table_id) -> Table:
    """The table with `total_spent` of its current session (404 table_not_found)."""
    table = table_row(table_id=table_id)
    table.total_spent = table_total_spent(table_id=table.pk)
    return table


def table_for_order(*, table_id) -> Table:
    """The table an order is for (without `total_spent`); read inside the order's transaction.

    With TABLE_OPENING=required its row is locked, so a close of the table and an order for it never cross
    (the order would land on a tab that was just archived). Only then: otherwise a table's orders never wait
    for each other.
    """
    return table_row(table_id=table_id, lock=settings.TABLE_OPENING_REQUIRED)


def table_list() -> QuerySet[Table]:
    spent = Sum(
        F("orders__total_amount") - F("orders__refunded_amount"),
        filter=Q(orders__status=OrderStatus.COMPLETED, orders__archived_at__isnull=True),
    )
    return Table.objects.annotate(total_spent=spent).order_by("name")


# --- orders -----------------------------------------------------------------------------------------


def with_lines(orders: QuerySet[Order]) -> list[Order]:
    """Orders as every reader renders them: with their table, lines and refunds, in three queries.

    The lines and refunds are read apart and attached (Order.attached_lines), not prefetched: prefetch_related
    points every line back at its order, a reference cycle per order that only the cyclic garbage collector
    frees, in passes that stalled the served process (docs/benchmarks.md).
    """
    found = list(orders.select_related("table"))
    by_id = {order.pk: order for order in found}
    for order in found:
        order.attached_lines, order.attached_refunds = [], []
    if by_id:
        for item in OrderItem.objects.filter(order_id__in=list(by_id)):  # id order (Meta.ordering)
            by_id[item.order_id].attached_lines.append(item)
        for refund in Refund.objects.filter(order_id__in=list(by_id)):
            by_id[refund.order_id].attached_refunds.append(refund)
    return found


def order_locked(*, order_id) -> Order:
    """The order's row, locked until the transaction ends (404 order_not_found). Call inside a write."""
    order = Order.objects.select_for_update().filter(pk=parse_uuid(order_id, missing=order_not_found)).first()
    if order is None:
        raise order_not_found()
    return order


def order_by_client_key(*, client_key: str) -> Order | None:
    """The order a guest's Idempotency-Key placed (Order.client_key), with its lines, or None."""
    found = with_lines(Order.objects.filter(client_key=client_key))
    return found[0] if found else None


def order_get(*, order_id) -> Order:
    pk = parse_uuid(order_id, missing=order_not_found)
    found = with_lines(Order.objects.filter(pk=pk))
    if not found:
        raise order_not_found()
    return found[0]


def table_tab_orders(*, table_id) -> list[Order]:
    """The current session's orders, newest first, cancelled ones left out."""
    orders = _tab_orders(table_id).exclude(status=OrderStatus.CANCELLED).order_by("-order_date", "-id")
    return with_lines(orders)


def table_with_feed_seq(*, table_id, feed: str) -> tuple[Table, int]:
    """The table's row (without `total_spent`) and its feed's latest seq (0 before any event), read in one
    statement, so at one moment (404 table_not_found)."""
    pk = parse_uuid(table_id, missing=table_not_found)
    seq = Subquery(Feed.objects.filter(name=feed).values("seq")[:1])
    try:
        table = Table.objects.annotate(feed_seq=seq).get(pk=pk)
    except Table.DoesNotExist:
        raise table_not_found() from None
    return table, table.feed_seq or 0


def table_tab_of(table: Table) -> list[Order]:
    """The tab of a table row already read (its orders as table_tab_orders reads them, each naming that row),
    and the row's `total_spent` summed from them: three queries, none for the sum."""
    orders = table_tab_orders(table_id=table.pk)
    for order in orders:
        order.table = table  # the row the caller read, not a second read a rename may have crossed
    table.total_spent = sum(
        order.total_amount - order.refunded_amount for order in orders if order.status == OrderStatus.COMPLETED
    )
    return orders


def table_tab(*, table_id) -> tuple[Table, list[Order]]:
    """The table, with `total_spent`, and its current session's orders (table_tab_of): four queries."""
    table = table_row(table_id=table_id)  # a read, outside any transaction (sockets, GET)
    return table, table_tab_of(table)


def order_history(*, table_id=None, limit: int = 50, offset: int = 0) -> tuple[list[Order], int, int]:
    """(page of orders newest first, total count, total spent) over all orders, archived included."""
    orders = Order.objects.all()
    if table_id is not None:
        orders = orders.filter(table_id=table_id)
    count = orders.count()
    spent = orders.filter(status=OrderStatus.COMPLETED).aggregate(s=SPENT)["s"] or 0
    page = with_lines(orders.order_by("-order_date", "-id")[offset : offset + limit])
    return page, count, spent


UNSERVED = [KitchenStatus.QUEUED, KitchenStatus.COOKING]


def open_tickets() -> QuerySet[Order]:
    """Paid or direct orders not yet served, on the kitchen board, with something left to make."""
    return Order.objects.filter(ON_BOARD, status=OrderStatus.COMPLETED, kitchen_status__in=UNSERVED).exclude(
        FULLY_REFUNDED
    )


def table_open_tickets(*, table_id) -> int:
    return open_tickets().filter(table_id=table_id).count()


def kitchen_open_orders(*, station: str | None = None) -> list[Order]:
    """Open tickets, oldest ticket (by payment) first; with `station`, those with an unserved line of it left
    to make (not refunded whole: Order.lines_to_make)."""
    orders = open_tickets()
    if station:
        refunded = (
            Refund.objects.filter(order=OuterRef("order"), food=OuterRef("food"))
            .values("order", "food")
            .annotate(quantity=Sum("quantity"))
            .values("quantity")
        )
        lines = (
            OrderItem.objects.filter(order=OuterRef("pk"), station=station, kitchen_status__in=UNSERVED)
            .annotate(refunded=Coalesce(Subquery(refunded), 0))
            .filter(quantity__gt=F("refunded"))
        )
        orders = orders.filter(Exists(lines))
    return with_lines(orders.order_by("paid_at", "id"))


# --- carts ------------------------------------------------------------------------------------------


def cart_of(*, table_id) -> Cart:
    """The table's cart; an empty one at version 0 (not stored) when nobody has added anything yet."""
    return Cart.objects.filter(table_id=table_id).defer("recent_writes").first() or Cart(table_id=table_id)
