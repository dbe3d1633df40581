"""Writes of the ordering app. Every rule about stock, prices and a table's tab lives here."""

import hashlib
import json
import logging
import secrets
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.idempotency import KeyReused, create_once
from ordering import events, selectors
from ordering.errors import Conflict, DomainError
from ordering.menu import menu_forget
from ordering.models import Cart, Food, Order, OrderItem, OrderStatus, Table
from ordering.selectors import food_get
from ordering.serializers import CartSerializer

logger = logging.getLogger(__name__)

# A cart remembers its last writes' keys: enough for a phone's resend, which comes within seconds, to find
# its own write behind a busy table's other phones.
CART_KEYS_KEPT = 50
ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def order_number_new(now: datetime | None = None) -> str:
    """Short, unique, readable over the phone: P + yymmdd + 8 random chars (15 chars)."""
    day = timezone.localtime(now or timezone.now()).strftime("%y%m%d")
    return "P" + day + _random_chars(8)


def _random_chars(count: int) -> str:
    """`count` characters of ORDER_NUMBER_ALPHABET, each uniform: its 32 letters take 5 bits of a random byte."""
    return "".join(ORDER_NUMBER_ALPHABET[byte & 31] for byte in secrets.token_bytes(count))


# --- stock ------------------------------------------------------------------------------------------


def foods_not_found(food_ids: list[int]) -> DomainError:
    """An order's or a cart's foods that do not exist: 400 with their ids (CONTRACT.md section 4)."""
    return DomainError("없는 메뉴가 포함되어 있습니다.", code="food_not_found", food_ids=food_ids)


def stock_reserve(*, quantities: dict[int, int]) -> dict[int, Food]:
    """Lock the counted foods, check every food, take the stock. Call inside a transaction.

    Counted foods are locked in primary-key order, so two orders touching the same foods can never
    deadlock, and checked under the lock, so the last units go to exactly one buyer. Uncounted foods
    have nothing to run out of and are not locked: orders of the popular drinks never queue behind
    each other (their sold-out switch is read as last committed).
    """
    ids = sorted(quantities)
    foods = Food.objects.in_bulk(ids)
    counted = sorted(pk for pk, food in foods.items() if food.stock is not None)
    if counted:
        foods.update((food.pk, food) for food in Food.objects.select_for_update().filter(pk__in=counted).order_by("pk"))
    missing = [food_id for food_id in ids if food_id not in foods]
    if missing:
        raise foods_not_found(missing)
    unavailable = [
        food.pk
        for food in foods.values()
        if food.sold_out or (food.stock is not None and food.stock < quantities[food.pk])
    ]
    if unavailable:
        raise Conflict("품절되었거나 남은 수량이 부족한 메뉴가 있습니다.", code="sold_out", food_ids=unavailable)
    for food in foods.values():
        if food.stock is None:
            continue
        food.stock -= quantities[food.pk]
        food.sold_out = food.stock == 0
        food.updated_at = timezone.now()
        food.version += 1  # read under the row's lock: exact
        Food.objects.filter(pk=food.pk).update(
            stock=F("stock") - quantities[food.pk],
            sold_out=food.sold_out,
            updated_at=food.updated_at,
            version=food.version,
        )
        food_changed(food)
    return foods


def stock_release(*, quantities: dict[int, int]) -> None:
    """Give reserved stock back (an unpaid pre-order expired). Call inside a transaction."""
    for food in Food.objects.select_for_update().filter(pk__in=sorted(quantities)).order_by("pk"):
        if food.stock is None:
            continue
        was_empty = food.stock == 0
        food.stock += quantities[food.pk]
        food.updated_at = timezone.now()
        food.version += 1
        fields = {"stock": F("stock") + quantities[food.pk], "updated_at": food.updated_at, "version": food.version}
        if was_empty and food.sold_out:  # sold out because it ran out: available again
            food.sold_out = False
            fields["sold_out"] = False
        Food.objects.filter(pk=food.pk).update(**fields)
        food_changed(food)


def food_changed(food: Food) -> None:
    """After any change of a food commits: push it to every screen and drop the kept menu.

    The event drops every other process's copy (ordering.menu); this one drops its own at once, first, so
    that a failure to hand the event over never leaves it kept.
    """
    transaction.on_commit(menu_forget)
    events.food_updated(food)


# --- orders -----------------------------------------------------------------------------------------


def refuse_if_closed(table: Table) -> None:
    """With TABLE_OPENING=required a closed table takes no order (CONTRACT.md section 8)."""
    if settings.TABLE_OPENING_REQUIRED and not table.is_open:
        raise Conflict(
            "아직 주문을 받지 않는 테이블입니다. 직원이 테이블을 열면 주문할 수 있어요.", code="table_closed"
        )


def order_create_locked(
    *,
    table: Table,
    quantities: dict[int, int],
    status: str,
    payer_name: str = "",
    expected_total: int | None = None,
    expires_at: datetime | None = None,
    client_key: str | None = None,
) -> Order:
    """Reserve stock, freeze prices and write the order. Call inside a transaction.

    Shared by direct orders and pre-orders, so both obey one set of stock and price rules.
    With `expected_total`, a client total that differs from the server's fails with amount_mismatch.
    With TABLE_OPENING=required, a closed table takes no order (its row is locked by table_for_order, so
    an order and a close of its table never cross).
    """
    refuse_if_closed(table)
    foods = stock_reserve(quantities=quantities)
    total = sum(foods[food_id].price * quantity for food_id, quantity in quantities.items())
    if expected_total is not None and expected_total != total:
        raise DomainError(
            "주문 금액이 메뉴 가격과 다릅니다. 장바구니를 새로고침해 주세요.",
            code="amount_mismatch",
            expected=total,
        )
    now = timezone.now()
    order = Order(
        order_number=order_number_new(now),
        order_date=now,
        table=table,
        status=status,
        payer_name=payer_name,
        total_amount=total,
        paid_at=now if status == OrderStatus.COMPLETED else None,
        expires_at=expires_at,
        client_key=client_key,
    )
    items = [
        OrderItem(
            order_id=order.pk,  # not order=: a line holding its order would make a reference cycle
            food_id=food_id,
            food_name=foods[food_id].name,
            unit_price=foods[food_id].price,
            quantity=quantity,
            station=foods[food_id].station,
            paid_at=order.paid_at,
        )
        for food_id, quantity in sorted(quantities.items())
    ]
    order.save(force_insert=True)
    order.attached_lines, order.attached_refunds = OrderItem.objects.bulk_create(items), []
    return order


def key_reused() -> Conflict:
    """A guest's Idempotency-Key sent with another request: the staff writes' own answer (KeyReused)."""
    return Conflict(KeyReused.default_detail, code=KeyReused.default_code)


def order_create_once(
    place,
    *,
    client_key: str | None,
    table_id,
    quantities: dict[int, int],
    payer_name: str = "",
    total_amount: int | None = None,
) -> Order:
    """`place()` (a transaction that writes an order with this `client_key`), unless the key placed one before:
    a phone that lost the answer sends the order again and gets that order back (`resent`), as it is now,
    instead of a second ticket; even when its dishes sold out since, or its table was closed since (the order
    was placed while it was open). The key with another table, other lines, payer or total is 409: it names
    another order. An order's `cart_version` is not compared: the resend of an order placed from the cart
    finds the cart emptied by it. A resend racing its first send may lose on the food the first sold out.
    """
    if client_key is None:
        return place()

    def same(order: Order) -> bool:
        return (
            str(order.table_id) == str(table_id)
            and {line.food_id: line.quantity for line in order.lines} == quantities
            and order.payer_name == payer_name
            and (total_amount is None or order.total_amount == total_amount)
        )

    order = create_once(
        place,
        find=lambda: selectors.order_by_client_key(client_key=client_key),
        matches=same,
        reused=key_reused,
        losing=(IntegrityError, DomainError),
    )
    if order.resent:
        logger.info("order resent", extra={"order_id": str(order.pk), "order_number": order.order_number})
    return order


def order_place(
    *, table_id, quantities: dict[int, int], cart_version: int | None = None, client_key: str | None = None
) -> Order:
    """A direct order: completed at once, a ticket for the kitchen. With `cart_version`, placed from the
    table's cart, which it empties. With `client_key`, placed once (order_create_once)."""
    return order_create_once(
        lambda: _order_place(
            table_id=table_id, quantities=quantities, cart_version=cart_version, client_key=client_key
        ),
        client_key=client_key,
        table_id=table_id,
        quantities=quantities,
    )


def _order_place(*, table_id, quantities, cart_version, client_key) -> Order:
    with transaction.atomic():
        table = selectors.table_for_order(table_id=table_id)
        order = order_create_locked(
            table=table, quantities=quantities, status=OrderStatus.COMPLETED, client_key=client_key
        )
        events.order_created(order)
        if cart_version is not None:
            cart_ordered(table=table, version=cart_version, quantities=quantities)
    logger.info(
        "order created",
        extra={
            "order_id": str(order.pk),
            "order_number": order.order_number,
            "table_id": str(table.pk),
            "event_type": "order.created",
        },
    )
    return order


# --- menu -------------------------------------------------------------------------------------------

UNSET = object()


@transaction.atomic
def food_update(
    *, food_id, sold_out: bool | None = None, stock=UNSET, price: int | None = None, station=None, by=None
) -> Food:
    """Staff edit of sold-out, stock, price or station; pushed to every open tab."""
    food = food_get(food_id=food_id)
    food = Food.objects.select_for_update().get(pk=food.pk)
    if stock is not UNSET:
        if stock == 0:
            food.sold_out = True
        elif food.stock == 0 and sold_out is None:
            food.sold_out = False  # restocked after running out
        food.stock = stock
    if sold_out is not None:
        if sold_out is False and food.stock == 0:
            raise Conflict("남은 수량이 0개라 판매를 재개할 수 없습니다. 수량을 먼저 늘려 주세요.", code="out_of_stock")
        food.sold_out = sold_out
    if price is not None:
        food.price = price  # past orders keep their frozen unit prices
    if station is not None:
        food.station = station  # lines already ordered stay where they were sent
    food.save()
    changes = {"sold_out": sold_out, "price": price, "station": station}
    if stock is not UNSET:
        changes["stock"] = stock
    audit.record(by, "food_update", food.name, food_id=food.pk, **{k: v for k, v in changes.items() if v is not None})
    food_changed(food)
    return food


@transaction.atomic
def food_save(*, food: Food, by=None) -> Food:
    """A dish made or edited in the admin (name, category, description...), pushed to every screen.

    Orders take stock meanwhile, so an edited dish keeps its row's own stock and sold-out, read under its lock
    (the admin shows them read-only; /staff/menu/ changes them through food_update).
    """
    created = food.pk is None
    if not created:
        current = Food.objects.select_for_update().get(pk=food.pk)
        food.stock, food.sold_out = current.stock, current.sold_out
    food.save()
    audit.record(by, "food_create" if created else "food_save", food.name, food_id=food.pk)
    food_changed(food)
    return food


# --- tables -----------------------------------------------------------------------------------------


def _table_name_new() -> str:
    return "T-" + _random_chars(5)


def table_create(*, name: str | None = None, by=None) -> Table:
    """A new table; with TABLE_OPENING=required it starts closed until staff open it."""
    try:
        with transaction.atomic():
            table = Table.objects.create(name=name or _table_name_new())
            audit.record(by, "table_create", table.name, table_id=str(table.pk))
    except IntegrityError:  # the unique name decides, even between racing requests
        raise Conflict("같은 이름의 테이블이 이미 있습니다.", code="table_name_taken") from None
    table.total_spent = 0
    return table


def _table_locked(table_id) -> Table:
    return selectors.table_row(table_id=table_id, lock=True)


def _tab_archive(table: Table, *, force: bool, doing: str = "초기화하려면") -> int:
    """Archive the table's tab (see table_orders_reset); refused while a paid ticket is not served. `doing`
    names the staff's action in the refusal (a reset, a close)."""
    unserved = selectors.table_open_tickets(table_id=table.pk)
    if unserved and not force:
        raise Conflict(
            f"아직 서빙하지 않은 주문이 {unserved}건 있습니다. 그래도 {doing} 강제로 진행해 주세요.",
            code="open_tickets",
            count=unserved,
        )
    now = timezone.now()
    archived = Order.objects.filter(table_id=table.pk, archived_at__isnull=True).update(archived_at=now)
    # Paid after an earlier reset (still on the board, on no tab): a forced reset takes them off the board too.
    Order.objects.filter(table_id=table.pk, paid_at__gt=F("archived_at")).update(archived_at=now)
    events.table_reset(table.pk)
    cart_clear(table=table)
    return archived


@transaction.atomic
def table_orders_reset(*, table_id, force: bool = False, by=None) -> int:
    """Archive the table's tab: its orders leave the tab and stay in history.

    Pending pre-orders leave it too (the next guests must not see them); they can still be paid, and a
    paid one comes back to the tab and the kitchen board (the payments app's completion does so). Refused
    (open_tickets) while a paid ticket is not served, unless `force`: food still cooking would vanish
    from the boards.
    """
    table = _table_locked(table_id)
    archived = _tab_archive(table, force=force)
    audit.record(by, "table_reset", table.name, table_id=str(table.pk), archived=archived, force=force)
    return archived


@transaction.atomic
def table_open(*, table_id, by=None) -> Table:
    """Start the table's session; phones waiting on its closed page turn into the menu (table.opened)."""
    table = _table_locked(table_id)
    table.total_spent = selectors.table_total_spent(table_id=table.pk)
    if not table.is_open:  # opening an open table changes nothing and tells nobody
        table.is_open = True
        table.save(update_fields=["is_open"])
        if settings.TABLE_OPENING_REQUIRED:  # (with "off" the guests at a closed table may be filling it)
            cart_clear(table=table)
        audit.record(by, "table_open", table.name, table_id=str(table.pk))
        events.table_opened(table)
    return table


@transaction.atomic
def table_close(*, table_id, force: bool = False, by=None) -> Table:
    """End the table's session: its tab is archived as by a reset (same refusal), and it takes no orders
    while TABLE_OPENING=required."""
    table = _table_locked(table_id)
    archived = _tab_archive(table, force=force, doing="닫으려면")
    if table.is_open:
        table.is_open = False
        table.save(update_fields=["is_open"])
    audit.record(by, "table_close", table.name, table_id=str(table.pk), archived=archived, force=force)
    table.total_spent = selectors.table_total_spent(table_id=table.pk)
    events.table_closed(table)
    return table


# --- carts ------------------------------------------------------------------------------------------


def _cart_locked(table: Table) -> Cart:
    Cart.objects.get_or_create(table=table)  # a first write creates it; the unique table decides races
    return Cart.objects.select_for_update().get(table=table)


def _cart_save(cart: Cart, items: list[dict]) -> Cart:
    cart.items, cart.version, cart.updated_at = items, cart.version + 1, timezone.now()
    cart.save()
    events.cart_updated(cart)
    return cart


def cart_put(*, table_id, quantities: dict[int, int], version: int, client_key: str | None = None) -> Cart:
    """Replace the table's cart, if `version` is still its latest (else cart_changed with the current cart).

    Foods must exist; a sold-out one may stay in a cart (it is refused only when ordered). With `client_key`
    (a guest's Idempotency-Key, hashed), a write sent again after its answer was lost is answered with the
    cart as it is now (`resent`) instead of being applied again or refused as stale.
    """
    write = [client_key, _cart_write_print(quantities, version)] if client_key else None
    with transaction.atomic():
        table = selectors.table_for_order(table_id=table_id)
        cart = _cart_locked(table)
        if write is not None and (landed := dict(cart.recent_writes).get(client_key)) is not None:
            if landed != write[1]:
                raise key_reused()
            cart.resent = True
            return cart
        missing = sorted(set(quantities) - set(Food.objects.filter(pk__in=quantities).values_list("pk", flat=True)))
        if missing:
            raise foods_not_found(missing)
        if cart.version != version:
            raise _cart_changed(cart)
        if write is not None:
            cart.recent_writes = [write, *cart.recent_writes][:CART_KEYS_KEPT]
        return _cart_save(cart, [{"food_id": f, "quantity": q} for f, q in quantities.items()])


def _cart_write_print(quantities: dict[int, int], version: int) -> str:
    return hashlib.sha256(json.dumps([version, sorted(quantities.items())]).encode()).hexdigest()[:16]


def _cart_changed(cart: Cart) -> Conflict:
    return Conflict(
        "다른 휴대폰에서 장바구니가 바뀌었습니다. 새 장바구니를 확인해 주세요.",
        code="cart_changed",
        cart=CartSerializer(cart).data,
    )


def cart_ordered(*, table: Table, version: int, quantities: dict[int, int]) -> None:
    """An order placed from the cart at `version` empties it. When other phones edited it since, what the
    order took comes out of it and the rest stays: the newer items are not lost, and the dishes on their way
    are not left in the cart to be ordered again. A version from before an order took from the cart (or a
    reset emptied it) is refused (cart_changed, the whole order undone): its phone had not heard, and would
    send the same dishes to the kitchen twice."""
    cart = Cart.objects.select_for_update().filter(table=table).first()
    if cart is None:
        return
    if version < cart.ordered_version or version > cart.version:
        raise _cart_changed(cart)
    if version == cart.version and not cart.items:
        return  # nothing in it: nothing taken, and no version made stale
    left = []
    if version != cart.version:
        for item in cart.items:
            quantity = item["quantity"] - quantities.get(item["food_id"], 0)
            if quantity > 0:
                left.append({"food_id": item["food_id"], "quantity": quantity})
    _cart_taken(cart, left)


def _cart_taken(cart: Cart, left: list[dict]) -> None:
    """Every version up to this change held what was taken (ordered, or ended by a reset): ordering it again
    is refused."""
    cart.ordered_version = cart.version + 1  # the version _cart_save gives it
    _cart_save(cart, left)


def cart_clear(*, table: Table) -> None:
    """A reset, a close, or an open with TABLE_OPENING=required: the next guests start with an empty cart, not
    taps sent late by the last ones' phones."""
    cart = Cart.objects.select_for_update().filter(table=table).first()
    if cart is not None and cart.items:
        _cart_taken(cart, [])
