"""Orders read or written for the screens are freed by reference counting, as soon as they are rendered.

A reference cycle per order (prefetch_related points each line back at its order) leaves every order read
to the cyclic garbage collector, whose passes over thousands of them stalled the served process.
"""

import gc
from collections import Counter

import pytest

from ordering import services
from ordering.models import Order, OrderItem, Refund, Table
from ordering.selectors import kitchen_open_orders, order_get, order_history, table_tab
from ordering.serializers import order_render
from tests.api.factories import OrderFactory, RefundFactory
from tests.factories import FoodFactory

pytestmark = pytest.mark.django_db


def alive() -> tuple[int, ...]:
    # type(), not isinstance(): a dead weakref.proxy left by another test raises ReferenceError on the latter.
    counts = Counter(type(o) for o in gc.get_objects())
    return tuple(counts[model] for model in (Order, OrderItem, Refund, Table))


def test_orders_read_and_written_leave_nothing_for_the_cyclic_collector(table):
    food, counted = FoodFactory(), FoodFactory(stock=50)
    for _ in range(3):
        order = OrderFactory(table=table, lines=[(food, 2), (counted, 1)])
    RefundFactory(order=order, food=food, quantity=1)
    quantities = {food.pk: 1, counted.pk: 2}
    del order
    gc.collect()
    before = alive()

    gc.disable()
    try:
        rendered = [order_render(o) for o in kitchen_open_orders()]
        rendered += [order_render(o) for o in table_tab(table_id=table.pk)[1]]
        rendered += [order_render(o) for o in order_history(table_id=table.pk)[0]]
        rendered.append(order_render(order_get(order_id=rendered[0]["id"])))
        rendered.append(order_render(services.order_place(table_id=table.pk, quantities=quantities)))
        left = alive()
    finally:
        gc.enable()

    assert len(rendered) == 3 + 3 + 3 + 1 + 1 and any(r["refunds"] for r in rendered)
    assert left == before


def test_the_order_lists_answered_hold_no_order(api, staff_api, table):
    """An answer outlives its request in DRF's cycle of view, request and answer: it must hold data, not rows."""
    food = FoodFactory()
    for _ in range(3):
        OrderFactory(table=table, lines=[(food, 2)])
    gc.collect()
    before = alive()[:3]  # orders, lines, refunds (a table in its answer is one row)

    gc.disable()
    try:
        answers = [
            staff_api.get("/api/kitchen/orders/"),
            api.get(f"/api/tables/{table.pk}/orders/"),
            staff_api.get("/api/orders/history/", {"table_id": str(table.pk)}),
        ]
        left = alive()[:3]
    finally:
        gc.enable()

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert len(answers[0].json()) == len(answers[1].json()["orders"]) == len(answers[2].json()["orders"]) == 3
    assert left == before
