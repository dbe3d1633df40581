"""kitchen.services: ticket status and staff calls, called directly."""

import uuid

import pytest

from kitchen import services
from kitchen.models import StaffCall
from ordering.errors import Conflict, NotFound
from ordering.models import KitchenStatus, Order, OrderStatus
from tests.api.factories import OrderFactory

pytestmark = pytest.mark.django_db

ALLOWED = [("queued", "cooking"), ("cooking", "served"), ("served", "cooking")]
ALL_PAIRS = [(a, b) for a in KitchenStatus.values for b in KitchenStatus.values]


@pytest.mark.parametrize(("current", "wanted"), ALL_PAIRS)
def test_kitchen_status_transitions(table, food, current, wanted):
    order = OrderFactory(table=table, lines=[(food, 1)], kitchen_status=current)

    if (current, wanted) in ALLOWED:
        assert services.order_kitchen_status_set(order_id=order.pk, kitchen_status=wanted).kitchen_status == wanted
    else:
        with pytest.raises(Conflict) as caught:
            services.order_kitchen_status_set(order_id=order.pk, kitchen_status=wanted)
        assert (caught.value.code, caught.value.extra) == ("invalid_transition", {"kitchen_status": current})
    expected = wanted if (current, wanted) in ALLOWED else current
    assert Order.objects.get(pk=order.pk).kitchen_status == expected
    # the order's status is its lines': they moved (or stayed) with it, served lines with their time
    assert [(line.kitchen_status, line.served_at is not None) for line in order.items.all()] == [
        (expected, expected == KitchenStatus.SERVED)
    ]


@pytest.mark.parametrize("status", [OrderStatus.PRE_ORDER, OrderStatus.CANCELLED])
def test_only_completed_orders_move(table, food, status):
    order = OrderFactory(table=table, lines=[(food, 1)], status=status)

    with pytest.raises(Conflict) as caught:
        services.order_kitchen_status_set(order_id=order.pk, kitchen_status="cooking")

    assert caught.value.code == "not_paid"
    assert Order.objects.get(pk=order.pk).kitchen_status == KitchenStatus.QUEUED


@pytest.mark.parametrize("order_id", [uuid.uuid4(), "nope", None])
def test_kitchen_status_of_an_unknown_order(order_id):
    with pytest.raises(NotFound) as caught:
        services.order_kitchen_status_set(order_id=order_id, kitchen_status="cooking")

    assert caught.value.code == "order_not_found"


def test_staff_call_is_stored_for_its_discord_alert(table):
    call = services.staff_call(table_id=table.pk, message="계산이요")

    assert StaffCall.objects.get() == call
    assert (call.table_id, call.message, call.notified) == (table.pk, "계산이요", False)


def test_staff_call_for_an_unknown_table_stores_nothing():
    with pytest.raises(NotFound) as caught:
        services.staff_call(table_id=uuid.uuid4(), message="")

    assert caught.value.code == "table_not_found"
    assert StaffCall.objects.count() == 0
