"""ordering.services: the rules about stock, prices and a table's tab, called directly."""

import re
import uuid
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from ordering import services
from ordering.errors import Conflict, DomainError, NotFound
from ordering.models import Food, KitchenStatus, Order, OrderItem, OrderStatus
from tests.api.factories import OrderFactory
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db


def stock_of(food: Food) -> tuple[int | None, bool]:
    food.refresh_from_db()
    return food.stock, food.sold_out


# --- order_number_new -------------------------------------------------------------------------------


def test_order_number_is_p_then_the_seoul_date_then_eight_characters():
    # 16:00 UTC is already the next day in Seoul
    number = services.order_number_new(datetime(2025, 5, 20, 16, 0, tzinfo=ZoneInfo("UTC")))

    assert re.fullmatch(r"P250521[A-HJ-NP-Z2-9]{8}", number)


def test_order_numbers_draw_every_letter_of_the_alphabet_about_equally():
    # Each character is 5 bits of a random byte: the alphabet must be exactly 32 distinct letters.
    assert len(set(services.ORDER_NUMBER_ALPHABET)) == len(services.ORDER_NUMBER_ALPHABET) == 32
    counts = Counter("".join(services.order_number_new()[7:] for _ in range(4000)))  # 32,000 letters

    assert set(counts) == set(services.ORDER_NUMBER_ALPHABET)
    assert min(counts.values()) > 800 and max(counts.values()) < 1200  # 1,000 each; 6+ sigma either way


# --- order_place ------------------------------------------------------------------------------------


def test_order_place_takes_stock_and_freezes_names_and_prices(table, food, counted_food):
    order = services.order_place(table_id=table.pk, quantities={counted_food.pk: 2, food.pk: 1})

    assert order.status == OrderStatus.COMPLETED
    assert order.paid_at is not None
    assert order.total_amount == 2 * 8000 + 12000
    assert [(i.food_id, i.food_name, i.unit_price, i.quantity) for i in order.items.all()] == sorted(
        [(counted_food.pk, counted_food.name, 8000, 2), (food.pk, food.name, 12000, 1)]
    )
    assert stock_of(counted_food) == (3, False)
    assert stock_of(food) == (None, False)


def test_order_place_for_an_unknown_table_writes_nothing(counted_food, snapshot):
    before = snapshot()

    with pytest.raises(NotFound) as caught:
        services.order_place(table_id=uuid.uuid4(), quantities={counted_food.pk: 1})

    assert caught.value.code == "table_not_found"
    assert snapshot() == before


def test_order_place_with_an_unknown_food_names_it_and_writes_nothing(table, counted_food, snapshot):
    before = snapshot()

    with pytest.raises(DomainError) as caught:
        services.order_place(table_id=table.pk, quantities={counted_food.pk: 1, 424242: 1})

    assert (caught.value.code, caught.value.status_code, caught.value.extra) == (
        "food_not_found",
        400,
        {"food_ids": [424242]},
    )
    assert snapshot() == before


def test_order_place_rolls_back_the_stock_of_every_line_when_one_is_short(table, snapshot):
    plenty = FoodFactory(stock=50)
    short = FoodFactory(stock=1)
    assert plenty.pk < short.pk  # the short food is checked after the plentiful one is locked
    before = snapshot()

    with pytest.raises(Conflict) as caught:
        services.order_place(table_id=table.pk, quantities={plenty.pk: 10, short.pk: 2})

    assert (caught.value.code, caught.value.extra) == ("sold_out", {"food_ids": [short.pk]})
    assert snapshot() == before


def test_an_outer_transaction_that_fails_later_leaves_no_order(table, counted_food, snapshot):
    before = snapshot()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.order_place(table_id=table.pk, quantities={counted_food.pk: 5})
        raise RuntimeError("the caller failed after placing the order")

    assert snapshot() == before


def test_stock_reserve_of_nothing_takes_nothing_and_asks_nothing(django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(0):
        assert services.stock_reserve(quantities={}) == {}


# --- stock_release ----------------------------------------------------------------------------------


def test_stock_release_gives_units_back_and_reopens_a_food_that_ran_out(table):
    ran_out = FoodFactory(stock=0, sold_out=True)
    switched_off = FoodFactory(stock=2, sold_out=True)
    uncounted = FoodFactory(stock=None, sold_out=True)

    with transaction.atomic():
        services.stock_release(quantities={ran_out.pk: 3, switched_off.pk: 1, uncounted.pk: 4})

    assert stock_of(ran_out) == (3, False)
    assert stock_of(switched_off) == (3, True)  # staff switched it off: stays off
    assert stock_of(uncounted) == (None, True)


# --- food_update ------------------------------------------------------------------------------------


def test_food_update_of_an_unknown_food_is_food_not_found():
    with pytest.raises(NotFound) as caught:
        services.food_update(food_id=999_999, sold_out=True)

    assert caught.value.code == "food_not_found"


def test_food_update_price_leaves_order_items_alone(table, food):
    order = services.order_place(table_id=table.pk, quantities={food.pk: 2})

    services.food_update(food_id=food.pk, price=99)

    assert Food.objects.get(pk=food.pk).price == 99
    assert list(OrderItem.objects.filter(order=order).values_list("unit_price", flat=True)) == [12000]
    assert Order.objects.get(pk=order.pk).total_amount == 24000


def test_food_update_switching_on_a_food_with_stock_left(counted_food):
    Food.objects.filter(pk=counted_food.pk).update(sold_out=True)

    food = services.food_update(food_id=counted_food.pk, sold_out=False)

    assert (food.stock, food.sold_out) == (5, False)
    assert stock_of(counted_food) == (5, False)


# --- tables -----------------------------------------------------------------------------------------


def test_table_create_with_a_taken_name_is_a_conflict():
    TableFactory(name="B2")

    with pytest.raises(Conflict) as caught:
        services.table_create(name="B2")

    assert caught.value.code == "table_name_taken"


def test_table_orders_reset_takes_every_order_of_the_table_off_its_tab(table, food):
    done = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=KitchenStatus.SERVED)  # nothing left to cook
    pending = OrderFactory(table=table, status=OrderStatus.PRE_ORDER, payer_name="홍길동", lines=[(food, 1)])
    other = OrderFactory(lines=[(food, 1)])

    assert services.table_orders_reset(table_id=table.pk) == 2

    done.refresh_from_db()
    pending.refresh_from_db()
    other.refresh_from_db()
    assert done.archived_at is not None
    assert pending.archived_at is not None and pending.status == OrderStatus.PRE_ORDER  # still payable
    assert other.archived_at is None


def test_a_save_from_a_food_read_before_later_changes_still_raises_its_version_past_them():
    """A food's states are ordered by version (realtime.hub): a late save must never go back in versions."""
    food = FoodFactory(stock=5)
    read_early = Food.objects.get(pk=food.pk)
    with transaction.atomic():
        services.stock_reserve(quantities={food.pk: 1})

    read_early.name = "새 이름"
    read_early.save()

    assert Food.objects.get(pk=food.pk).version == read_early.version == food.version + 2
