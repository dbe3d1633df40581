"""Real threads racing for the last units of a counted food (LESSONS.md: never oversold, tested on MariaDB).

On MariaDB the rows are locked with SELECT ... FOR UPDATE; on SQLite writers are serialised. Either way the
outcome must be exact: N buyers for N units, the rest refused, stock never below zero.
"""

from collections import Counter

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from ordering import services
from ordering.errors import Conflict
from ordering.models import Food, Order, OrderItem
from tests.concurrency.threads import race
from tests.factories import FoodFactory, TableFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]

THREADS = 24


def post_order(table, lines):
    """One customer's phone: its own client, its own connection."""
    body = {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": qty} for food, qty in lines]}
    response = APIClient().post("/api/orders/", body, format="json")
    return response.status_code, response.json()


def statuses(results) -> Counter:
    errors = [result for result in results if isinstance(result, BaseException)]
    assert errors == [], errors
    return Counter(status for status, _ in results)


@pytest.mark.parametrize("units", [1, 5])
def test_the_last_units_go_to_exactly_that_many_buyers(units):
    tables = TableFactory.create_batch(THREADS)
    food = FoodFactory(stock=units, price=7000)

    results = race(THREADS, lambda i: post_order(tables[i], [(food, 1)]))

    assert statuses(results) == {201: units, 409: THREADS - units}
    refused = [body for status, body in results if status == 409]
    assert all(body["code"] == "sold_out" and body["food_ids"] == [food.pk] for body in refused), refused
    food.refresh_from_db()
    assert (food.stock, food.sold_out) == (0, True)
    assert Order.objects.count() == units
    assert OrderItem.objects.aggregate(n=Sum("quantity"))["n"] == units
    sold_ids = {body["id"] for status, body in results if status == 201}
    assert set(map(str, Order.objects.values_list("pk", flat=True))) == sold_ids


def test_stock_never_goes_below_zero_with_larger_quantities():
    tables = TableFactory.create_batch(THREADS)
    food = FoodFactory(stock=7)

    results = race(THREADS, lambda i: post_order(tables[i], [(food, 2)]))

    # three orders of two units fit in seven; the fourth would need two of the one left
    assert statuses(results) == {201: 3, 409: THREADS - 3}
    food.refresh_from_db()
    assert (food.stock, food.sold_out) == (1, False)
    assert OrderItem.objects.aggregate(n=Sum("quantity"))["n"] == 6


def test_racing_service_calls_sell_exactly_the_stock():
    table = TableFactory()
    food = FoodFactory(stock=4)

    def buy(i):
        try:
            return services.order_place(table_id=table.pk, quantities={food.pk: 1}).pk
        except Conflict as exc:
            return exc.code

    results = race(THREADS, buy)

    assert Counter(result == "sold_out" for result in results) == {True: THREADS - 4, False: 4}
    assert Food.objects.get(pk=food.pk).stock == 0
    assert Order.objects.count() == 4


def test_orders_naming_two_foods_in_opposite_order_do_not_deadlock():
    """Locks are taken in primary-key order, whatever the order of the lines."""
    tables = TableFactory.create_batch(THREADS)
    first = FoodFactory(stock=1000)
    second = FoodFactory(stock=1000)

    def order(i):
        lines = [(first, 1), (second, 2)] if i % 2 else [(second, 2), (first, 1)]
        return post_order(tables[i], lines)

    results = race(THREADS, order)

    assert statuses(results) == {201: THREADS}, [body for status, body in results if status != 201]
    assert Food.objects.get(pk=first.pk).stock == 1000 - THREADS
    assert Food.objects.get(pk=second.pk).stock == 1000 - 2 * THREADS
    assert Order.objects.count() == THREADS


def test_a_sold_out_race_between_two_foods_writes_only_whole_orders():
    """Each order wants one of two scarce foods' last units: no order is ever half written."""
    tables = TableFactory.create_batch(THREADS)
    first = FoodFactory(stock=3)
    second = FoodFactory(stock=5)

    def order(i):
        lines = [(first, 1), (second, 1)] if i % 2 else [(second, 1), (first, 1)]
        return post_order(tables[i], lines)

    results = race(THREADS, order)

    assert statuses(results) == {201: 3, 409: THREADS - 3}
    assert (Food.objects.get(pk=first.pk).stock, Food.objects.get(pk=second.pk).stock) == (0, 2)
    assert OrderItem.objects.count() == 6
    assert all(order.items.count() == 2 for order in Order.objects.all())
