"""Order rows for read-side tests (tab, history, kitchen board, query counts).

Writes under test go through the API or the services; these factories only lay down history.
"""

import factory
from django.utils import timezone

from ordering.models import KitchenStatus, Order, OrderItem, OrderStatus, Refund, ticket_tenths
from tests.factories import FoodFactory, TableFactory


class OrderFactory(factory.django.DjangoModelFactory):
    """A completed order. `lines=[(food, quantity), ...]` adds its items and sets total_amount.

    Each line is at its food's station and has the order's kitchen_status (the order's status is derived
    from its lines); a served line is served when the factory runs.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

    order_number = factory.Sequence(lambda n: f"F{n:010d}")
    table = factory.SubFactory(TableFactory)
    status = OrderStatus.COMPLETED
    kitchen_status = KitchenStatus.QUEUED
    total_amount = 0
    archived_at = None
    # An archived order was paid before the reset that archived it (one paid after is a ticket on the board).
    paid_at = factory.LazyAttribute(
        lambda o: (o.archived_at or timezone.now()) if o.status == OrderStatus.COMPLETED else None
    )

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):
        if not create or not extracted:
            return
        served_at = timezone.now() if obj.kitchen_status == KitchenStatus.SERVED else None
        OrderItem.objects.bulk_create(
            OrderItem(
                order=obj,
                food=food,
                food_name=food.name,
                unit_price=food.price,
                quantity=quantity,
                station=food.station,
                kitchen_status=obj.kitchen_status,
                served_at=served_at,
                paid_at=obj.paid_at,
                ticket_tenths=ticket_tenths(obj.paid_at, served_at) if served_at and obj.paid_at else None,
            )
            for food, quantity in extracted
        )
        obj.total_amount = sum(food.price * quantity for food, quantity in extracted)
        Order.objects.filter(pk=obj.pk).update(total_amount=obj.total_amount)

    @factory.post_generation
    def ordered_at(obj, create, extracted, **kwargs):
        """order_date is auto_now_add: set it afterwards to place an order in time."""
        if create and extracted:
            Order.objects.filter(pk=obj.pk).update(order_date=extracted)
            obj.order_date = extracted


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund row; also raises the order's refunded_amount, as payments.services.order_refund does."""

    class Meta:
        model = Refund
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory)
    food = factory.SubFactory(FoodFactory)
    food_name = factory.LazyAttribute(lambda r: r.food.name)
    unit_price = factory.LazyAttribute(lambda r: r.food.price)
    quantity = 1
    amount = factory.LazyAttribute(lambda r: r.unit_price * r.quantity)
    reason = "품절"

    @factory.post_generation
    def _book(obj, create, extracted, **kwargs):
        if create:
            obj.order.refunded_amount += obj.amount
            Order.objects.filter(pk=obj.order_id).update(refunded_amount=obj.order.refunded_amount)
