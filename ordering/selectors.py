"""Reads. Every function here costs a fixed number of queries, whatever the size of the history."""

import json
import logging
import time
import uuid

from django.core.cache import cache
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from rest_framework.renderers import JSONRenderer

from ordering.errors import NotFound
from ordering.models import Food, KitchenStatus, Order, OrderItem, OrderStatus, Refund, Table
from ordering.serializers import FoodSerializer

logger = logging.getLogger(__name__)

SPENT = Sum(F("total_amount") - F("refunded_amount"))


def parse_uuid(value, *, code: str, detail: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(detail, code=code) from None


def table_not_found() -> NotFound:
    return NotFound("테이블을 찾을 수 없습니다.", code="table_not_found")


def order_not_found() -> NotFound:
    return NotFound("주문을 찾을 수 없습니다.", code="order_not_found")


def food_not_found() -> NotFound:
    return NotFound("메뉴를 찾을 수 없습니다.", code="food_not_found")


# --- foods ------------------------------------------------------------------------------------------


def food_list(*, category: str | None = None) -> QuerySet[Food]:
    foods = Food.objects.all()
    if category:
        foods = foods.filter(category=category)
    return foods


MENU_VERSION_KEY = "menu:version"
# Changes made through the app invalidate at once; this bounds how long one made around it (a seed
# command, a manual SQL fix) can stay unseen.
MENU_CACHE_SECONDS = 5


def _menu_version() -> int:
    version = cache.get(MENU_VERSION_KEY)
    if version is None:
        # Start from the clock, not 1: data cached under an older run's low numbers is never read back.
        cache.add(MENU_VERSION_KEY, int(time.time() * 1000), timeout=None)
        version = cache.get(MENU_VERSION_KEY)
    return version


def menu_json(*, category: str | None = None) -> bytes:
    """The menu as the JSON `GET /api/foods/` answers (the hottest read: every phone, every reconnect).

    Rendered once per menu version, in the shared cache (plain reads are then answered by config.edge
    without coming here). Versioned keys: the version is read before the database, so a reader that races
    a change caches the old menu under the old version, which nobody reads again. Without the cache (Redis
    down) it reads the database.
    """
    try:
        key = f"menu:{_menu_version()}:{category or 'all'}"
        body = cache.get(key)
    except Exception:
        logger.warning("menu cache unavailable", exc_info=True)
        return _menu_render(category)
    if body is None:
        body = _menu_render(category)
        try:
            cache.set(key, body, MENU_CACHE_SECONDS)
        except Exception:
            logger.warning("menu cache unavailable", exc_info=True)
    return body


def menu_data(*, category: str | None = None) -> list[dict]:
    """The menu as data, for the socket snapshots (a fresh copy: the caller may change it)."""
    return json.loads(menu_json(category=category))


def _menu_render(category: str | None) -> bytes:
    return JSONRenderer().render(FoodSerializer(food_list(category=category), many=True).data)


def menu_cache_invalidate() -> None:
    """Called after a food change commits: the next read builds the menu afresh."""
    try:
        cache.incr(MENU_VERSION_KEY)
    except ValueError:  # no version yet: nothing cached under one either
        pass
    except Exception:
        logger.warning("menu cache unavailable", exc_info=True)


def food_get(*, food_id) -> Food:
    try:
        return Food.objects.get(pk=int(str(food_id)))
    except (ValueError, Food.DoesNotExist):
        raise food_not_found() from None


# --- tables -----------------------------------------------------------------------------------------


def _tab_orders(table_id) -> QuerySet[Order]:
    """The table's current session: orders not archived by a reset."""
    return Order.objects.filter(table_id=table_id, archived_at__isnull=True)


def table_total_spent(*, table_id) -> int:
    return _tab_orders(table_id).filter(status=OrderStatus.COMPLETED).aggregate(s=SPENT)["s"] or 0


def table_get(*, table_id) -> Table:
    """The table with `total_spent` of its current session (404 table_not_found)."""
    pk = parse_uuid(table_id, code="table_not_found", detail="테이블을 찾을 수 없습니다.")
    table = Table.objects.filter(pk=pk).first()
    if table is None:
        raise table_not_found()
    table.total_spent = table_total_spent(table_id=pk)
    return table


# Every order reads its table. Tables are created and only renamed or deleted by hand in the admin, so each
# process keeps the rows it has read for this long: an order costs one query less. A rename reaches new
# orders within these seconds (as a change of the menu made around the app does); an order for a table
# deleted meanwhile fails its foreign key, which services.order_table_checked turns into a 404.
TABLE_KEEP_SECONDS = 5.0
_tables_kept: dict[uuid.UUID, tuple[float, tuple]] = {}


def table_for_order(*, table_id) -> Table:
    """The table an order is for (no `total_spent`), read at most every TABLE_KEEP_SECONDS per process."""
    pk = parse_uuid(table_id, code="table_not_found", detail="테이블을 찾을 수 없습니다.")
    now = time.monotonic()
    kept = _tables_kept.get(pk)
    if kept is None or kept[0] <= now:
        row = Table.objects.filter(pk=pk).values_list("id", "name", "created_at").first()
        if row is None:
            raise table_not_found()
        kept = _tables_kept[pk] = (now + TABLE_KEEP_SECONDS, row)
    return Table.from_db(None, ["id", "name", "created_at"], kept[1])  # a copy of its own for every order


def table_forget(table_id) -> None:
    _tables_kept.pop(table_id, None)


def table_list() -> QuerySet[Table]:
    spent = Sum(
        F("orders__total_amount") - F("orders__refunded_amount"),
        filter=Q(orders__status=OrderStatus.COMPLETED, orders__archived_at__isnull=True),
    )
    return Table.objects.annotate(total_spent=spent).order_by("name")


# --- orders -----------------------------------------------------------------------------------------


def with_lines(orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.select_related("table").prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id")),
        Prefetch("refunds", queryset=Refund.objects.order_by("id")),
    )


def order_get(*, order_id) -> Order:
    pk = parse_uuid(order_id, code="order_not_found", detail="주문을 찾을 수 없습니다.")
    order = with_lines(Order.objects.filter(pk=pk)).first()
    if order is None:
        raise order_not_found()
    return order


def table_tab_orders(*, table_id) -> list[Order]:
    """The current session's orders, newest first, cancelled ones left out."""
    orders = _tab_orders(table_id).exclude(status=OrderStatus.CANCELLED).order_by("-order_date", "-id")
    return list(with_lines(orders))


def order_history(*, table_id=None, limit: int = 50, offset: int = 0) -> tuple[list[Order], int, int]:
    """(page of orders newest first, total count, total spent) over all orders, archived included."""
    orders = Order.objects.all()
    if table_id is not None:
        orders = orders.filter(table_id=table_id)
    count = orders.count()
    spent = orders.filter(status=OrderStatus.COMPLETED).aggregate(s=SPENT)["s"] or 0
    page = list(with_lines(orders.order_by("-order_date", "-id"))[offset : offset + limit])
    return page, count, spent


def kitchen_open_orders() -> list[Order]:
    """Open tickets: paid or direct, not served, not archived; oldest ticket (by payment) first."""
    orders = Order.objects.filter(
        status=OrderStatus.COMPLETED,
        kitchen_status__in=[KitchenStatus.QUEUED, KitchenStatus.COOKING],
        archived_at__isnull=True,
    ).order_by("paid_at", "id")
    return list(with_lines(orders))
