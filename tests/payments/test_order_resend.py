"""A guest's order sent again with its Idempotency-Key (the phone lost the answer on the Wi-Fi): the order the key
placed is the answer, and nothing happens a second time: no event, no second registration, no cart emptied."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ordering.events import GROUP_KITCHEN, GROUP_MENU, GROUP_STAFF, table_group
from ordering.models import Order
from ordering.services import cart_put, table_close, table_open
from payments.models import PayActionRegistration
from payments.services import order_confirm_payment, pre_orders_expire
from tests.api.helpers import assert_error
from tests.payments.support import capture_events, in_commit, lines

pytestmark = pytest.mark.django_db


def send(api, table, *pairs, key, payer_name="홍길동", total=None, cart_version=None):
    body = {"payer_name": payer_name, "total_amount": total, "items": lines(*pairs)}
    if total is None:
        body["total_amount"] = sum(food.price * quantity for food, quantity in pairs)
    if cart_version is not None:
        body["cart_version"] = cart_version
    return api.post(f"/api/orders/pre-order/{table.pk}/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_resent_pre_order_is_answered_with_itself_and_raises_nothing_again(
    api, table, pasta, beer, settings, django_capture_on_commit_callbacks
):
    settings.PAYACTION_API_KEY = "key"  # each pre-order is registered with PayAction once
    first = send(api, table, (pasta, 1), (beer, 2), key="phone-1")
    groups = [table_group(table.pk), GROUP_KITCHEN, GROUP_STAFF, GROUP_MENU]

    again, events = capture_events(
        groups,
        in_commit(django_capture_on_commit_callbacks, lambda: send(api, table, (pasta, 1), (beer, 2), key="phone-1")),
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert events == {group: [] for group in groups}
    assert Order.objects.count() == PayActionRegistration.objects.count() == 1
    beer.refresh_from_db()
    assert beer.stock == 2  # reserved once


def test_a_resend_leaves_a_cart_refilled_since_alone(api, table, pasta, beer):
    cart = cart_put(table_id=table.pk, quantities={pasta.pk: 1}, version=0)
    send(api, table, (pasta, 1), key="phone-2", cart_version=cart.version)  # empties the cart
    refilled = cart_put(table_id=table.pk, quantities={beer.pk: 1}, version=cart.version + 1)  # another phone

    again = send(api, table, (pasta, 1), key="phone-2", cart_version=cart.version)

    assert again.status_code == 201
    assert api.get(f"/api/tables/{table.pk}/cart/").json()["version"] == refilled.version
    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == [{"food_id": beer.pk, "quantity": 1}]


@pytest.mark.parametrize("change", [{"payer_name": "김영희"}, {"total": 1}], ids=["payer", "total"])
def test_a_pre_order_key_with_another_payer_or_total_is_409(api, table, pasta, change):
    send(api, table, (pasta, 1), key="phone-3")

    reused = send(api, table, (pasta, 1), key="phone-3", **change)

    assert_error(reused, 409, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_a_pre_order_paid_since_is_answered_as_paid(api, table, pasta):
    first = send(api, table, (pasta, 1), key="phone-4")
    order_confirm_payment(order_id=first.json()["order_id"])

    again = send(api, table, (pasta, 1), key="phone-4")

    assert again.status_code == 201 and again.json()["order_id"] == first.json()["order_id"]
    assert again.json()["redirect_url"] is None  # nothing more to pay
    assert "입금" in again.json()["message"] and "이동해" not in again.json()["message"]


def test_an_expired_pre_order_lets_its_key_go(api, table, pasta):
    first = send(api, table, (pasta, 1), key="phone-5")
    Order.objects.filter(pk=first.json()["order_id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pre_orders_expire() == 1

    again = send(api, table, (pasta, 1), key="phone-5")

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert again.json()["order_id"] != first.json()["order_id"]
    assert again.json()["redirect_url"].startswith("supertoss://")


def test_a_direct_order_resent_after_its_table_closed_is_still_itself(api, table, pasta, settings):
    """It was placed while the table was open: the answer is that order, not table_closed."""
    settings.TABLE_OPENING_REQUIRED = True
    table_open(table_id=table.pk)
    body = {"table_id": str(table.pk), "items": lines((pasta, 1))}
    first = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-6")
    table_close(table_id=table.pk, force=True)

    again = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-6")
    fresh = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-7")

    assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])
    assert_error(fresh, 409, "table_closed")
