"""OrderSerializer renders orders by hand (speed); it must render exactly what its declared fields do."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers

from ordering.models import Order, OrderStatus
from ordering.selectors import with_lines
from ordering.serializers import OrderSerializer, order_data
from payments.services import order_refund
from tests.factories import FoodFactory, TableFactory

pytestmark = pytest.mark.django_db


def declared(order: Order) -> dict:
    """What DRF renders from the declared fields (ModelSerializer's own to_representation)."""
    return dict(serializers.ModelSerializer.to_representation(OrderSerializer(), order))


def test_every_kind_of_order_renders_as_its_declared_fields(api):
    table = TableFactory(name="B2")
    kimchi, beer = FoodFactory(name="김치전", price=12000), FoodFactory(name="맥주", price=5000, stock=9)
    api.post(
        "/api/orders/",
        {
            "table_id": str(table.pk),
            "items": [{"food_id": kimchi.pk, "quantity": 2}, {"food_id": beer.pk, "quantity": 3}],
        },
        format="json",
    )
    api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 5000, "items": [{"food_id": beer.pk, "quantity": 1}]},
        format="json",
    )
    direct = Order.objects.get(status=OrderStatus.COMPLETED)
    order_refund(order_id=direct.pk, quantities={beer.pk: 1}, reason="잘못 주문")
    Order.objects.filter(pk=direct.pk).update(kitchen_status="served")

    orders = list(with_lines(Order.objects.all()))
    assert {order.status for order in orders} == {OrderStatus.COMPLETED, OrderStatus.PRE_ORDER}
    assert any(order.refunds.all() for order in orders) and any(order.expires_at for order in orders)
    assert any(order.paid_at is None for order in orders)
    for order in orders:
        assert OrderSerializer(order).data == order_data(order) == declared(order)
    assert OrderSerializer(orders, many=True).data == [declared(order) for order in orders]


def test_times_render_in_the_configured_zone_as_drf_does():
    order = Order(
        table=TableFactory(),
        order_number="P1",
        total_amount=0,
        order_date=timezone.now(),
        paid_at=timezone.now() - timedelta(microseconds=1),
    )
    order._prefetched_objects_cache = {"items": [], "refunds": []}
    rendered = OrderSerializer(order).data
    assert rendered == declared(order)
    assert rendered["paid_at"].endswith("+09:00")
