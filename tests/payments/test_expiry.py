"""Unpaid pre-orders expire: payments.services.pre_orders_expire and `manage.py expire_pre_orders`."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ordering.events import GROUP_KITCHEN, GROUP_MENU, GROUP_STAFF, table_group
from ordering.models import Order
from payments.services import pre_orders_expire
from tests.payments.support import capture_events, in_commit, pre_order

pytestmark = pytest.mark.django_db


def _expire_now(*order_ids):
    Order.objects.filter(pk__in=order_ids).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_an_expired_pre_order_is_cancelled_and_its_stock_returns(
    api, table, pasta, beer, django_capture_on_commit_callbacks
):
    order_id = pre_order(api, table, (pasta, 1), (beer, 4)).json()["order_id"]
    beer.refresh_from_db()
    assert beer.stock == 0 and beer.sold_out is True
    _expire_now(order_id)

    expired, events = capture_events(
        [table_group(table.pk), GROUP_KITCHEN, GROUP_MENU],
        in_commit(django_capture_on_commit_callbacks, pre_orders_expire),
    )

    assert expired == 1
    order = Order.objects.get(pk=order_id)
    assert order.status == "cancelled" and order.paid_at is None
    beer.refresh_from_db()
    assert beer.stock == 4 and beer.sold_out is False  # back from 0: on sale again
    for group in (table_group(table.pk), GROUP_KITCHEN):
        assert [(e["type"], e["order"]["id"], e["order"]["status"]) for e in events[group]] == [
            ("order.updated", order_id, "cancelled")
        ]
    assert [(e["type"], e["food"]["id"], e["food"]["stock"], e["food"]["sold_out"]) for e in events[GROUP_MENU]] == [
        ("food.updated", beer.pk, 4, False)
    ]
    assert all(event["ts"] for group_events in events.values() for event in group_events)


def test_a_pre_order_a_reset_took_off_the_tab_expires_on_the_staff_screens_only(
    api, staff_api, table, pasta, django_capture_on_commit_callbacks
):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]
    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/").json() == {"archived": 1}
    _expire_now(order_id)

    expired, events = capture_events(
        [table_group(table.pk), GROUP_KITCHEN, GROUP_STAFF],
        in_commit(django_capture_on_commit_callbacks, pre_orders_expire),
    )

    assert expired == 1
    # the staff screens list unpaid pre-orders: they must learn it is gone; the tab and the board never had it
    assert [(e["type"], e["order"]["id"], e["order"]["status"]) for e in events[GROUP_STAFF]] == [
        ("order.updated", order_id, "cancelled")
    ]
    assert events[table_group(table.pk)] == events[GROUP_KITCHEN] == []


def test_expiry_leaves_a_food_staff_switched_off_sold_out(api, table, beer, staff_api):
    order_id = pre_order(api, table, (beer, 1)).json()["order_id"]
    assert staff_api.patch(f"/api/foods/{beer.pk}/", {"sold_out": True}, format="json").status_code == 200
    _expire_now(order_id)

    assert pre_orders_expire() == 1

    beer.refresh_from_db()
    assert beer.stock == 4 and beer.sold_out is True  # it had stock left: the switch was staff's, not the count's


def test_pre_orders_not_yet_expired_and_paid_orders_are_left_alone(
    api, staff_api, table, pasta, beer, django_capture_on_commit_callbacks
):
    waiting = pre_order(api, table, (beer, 1), payer_name="대기").json()["order_id"]
    paid = pre_order(api, table, (beer, 1), payer_name="결제").json()["order_id"]
    staff_api.post(f"/api/orders/{paid}/confirm-payment/")
    direct = api.post(
        "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": beer.pk, "quantity": 1}]}, format="json"
    ).json()["id"]
    _expire_now(paid, direct)

    with django_capture_on_commit_callbacks() as callbacks:
        assert pre_orders_expire() == 0

    assert {str(pk): status for pk, status in Order.objects.values_list("pk", "status")} == {
        waiting: "pre_order",
        paid: "completed",
        direct: "completed",
    }
    beer.refresh_from_db()
    assert beer.stock == 1
    assert callbacks == []


def test_expiry_is_due_at_expires_at(api, table, pasta):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]
    expires_at = Order.objects.get(pk=order_id).expires_at

    assert pre_orders_expire(now=expires_at - timedelta(seconds=1)) == 0
    assert pre_orders_expire(now=expires_at) == 1
    assert Order.objects.get(pk=order_id).status == "cancelled"


def test_a_ttl_of_zero_expires_at_once(api, table, pasta, settings):
    settings.PRE_ORDER_TTL_MINUTES = 0
    response = pre_order(api, table, (pasta, 1))
    assert response.status_code == 201

    assert pre_orders_expire() == 1
    assert Order.objects.get(pk=response.json()["order_id"]).status == "cancelled"


def test_the_expire_pre_orders_command(api, table, beer, django_capture_on_commit_callbacks):
    ids = [pre_order(api, table, (beer, 1), payer_name=f"손님{n}").json()["order_id"] for n in range(3)]
    keep = pre_order(api, table, (beer, 1), payer_name="나중").json()["order_id"]
    _expire_now(*ids)
    out = StringIO()

    def run():
        call_command("expire_pre_orders", stdout=out)

    _, events = capture_events([table_group(table.pk), GROUP_MENU], in_commit(django_capture_on_commit_callbacks, run))

    assert {str(pk) for pk in Order.objects.filter(status="cancelled").values_list("pk", flat=True)} == set(ids)
    assert Order.objects.get(pk=keep).status == "pre_order"
    beer.refresh_from_db()
    assert beer.stock == 3
    assert "3" in out.getvalue()
    assert sorted(e["order"]["id"] for e in events[table_group(table.pk)] if e["type"] == "order.updated") == sorted(
        ids
    )
    assert events[GROUP_MENU][-1]["type"] == "food.updated"
    assert events[GROUP_MENU][-1]["food"]["stock"] == 3


def test_the_command_with_nothing_to_do(db):
    out = StringIO()
    call_command("expire_pre_orders", stdout=out)
    assert "0" in out.getvalue()
