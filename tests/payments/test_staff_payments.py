"""Staff payment actions: confirm-payment, refunds, the payment list and manual matching."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ordering.events import GROUP_KITCHEN, table_group
from ordering.models import Order, Refund
from payments.models import PaymentEvent
from payments.services import pre_orders_expire
from tests.factories import FoodFactory, StaffFactory, TableFactory
from tests.payments.support import capture_events, deliver, deposit_body, direct_order, in_commit, pre_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_api(db):
    """Logged in, but not staff."""
    user = StaffFactory(is_staff=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def paid_order(api, table, pasta, beer):
    """A completed direct order: 2 x 파스타 (12000) + 3 x 생맥주 (5000) = 39000."""
    response = direct_order(api, table, (pasta, 2), (beer, 3))
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["id"])


def _forbidden(client_name, response):
    if client_name == "anonymous":
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    else:
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"


# --- confirm payment --------------------------------------------------------------------------------


def test_staff_confirm_a_pre_order_paid(api, staff_api, table, pasta, django_capture_on_commit_callbacks):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]
    groups = [table_group(table.pk), GROUP_KITCHEN]
    run = in_commit(
        django_capture_on_commit_callbacks, lambda: staff_api.post(f"/api/orders/{order_id}/confirm-payment/")
    )

    response, events = capture_events(groups, run)

    assert response.status_code == 200
    assert response.json()["id"] == order_id
    assert response.json()["status"] == "completed" and response.json()["paid_at"] is not None
    assert Order.objects.get(pk=order_id).status == "completed"
    for group in groups:
        assert [(e["type"], e["order"]["id"]) for e in events[group]] == [("order.paid", order_id)]


def test_confirming_a_paid_order_is_409(staff_api, paid_order):
    response = staff_api.post(f"/api/orders/{paid_order.pk}/confirm-payment/")

    assert response.status_code == 409
    assert response.json()["code"] == "not_pre_order"
    assert Order.objects.get(pk=paid_order.pk).paid_at == paid_order.paid_at


def test_confirming_an_expired_pre_order_revives_it_when_its_stock_is_there(api, staff_api, table):
    food = FoodFactory(price=9000, stock=2)
    order_id = pre_order(api, table, (food, 2)).json()["order_id"]
    Order.objects.filter(pk=order_id).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert pre_orders_expire() == 1
    food.refresh_from_db()
    assert (food.stock, food.sold_out) == (2, False)

    response = staff_api.post(f"/api/orders/{order_id}/confirm-payment/")

    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    food.refresh_from_db()
    assert (food.stock, food.sold_out) == (0, True)


def test_confirming_an_expired_pre_order_whose_stock_is_gone_is_409_and_changes_nothing(api, staff_api, table):
    food = FoodFactory(price=9000, stock=2)
    order_id = pre_order(api, table, (food, 2)).json()["order_id"]
    Order.objects.filter(pk=order_id).update(expires_at=timezone.now() - timedelta(minutes=1))
    pre_orders_expire()
    direct_order(api, table, (food, 1))

    response = staff_api.post(f"/api/orders/{order_id}/confirm-payment/")

    assert response.status_code == 409 and response.json()["code"] == "sold_out"
    assert Order.objects.get(pk=order_id).status == "cancelled"
    food.refresh_from_db()
    assert food.stock == 1


@pytest.mark.parametrize("order_id", ["00000000-0000-0000-0000-000000000000", "abc"])
def test_confirming_an_unknown_order_is_404(staff_api, order_id):
    response = staff_api.post(f"/api/orders/{order_id}/confirm-payment/")

    assert response.status_code == 404 and response.json()["code"] == "order_not_found"


@pytest.mark.parametrize("client_name", ["anonymous", "customer"])
def test_only_staff_confirm_payments(api, customer_api, table, pasta, client_name):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]
    client = APIClient() if client_name == "anonymous" else customer_api

    _forbidden(client_name, client.post(f"/api/orders/{order_id}/confirm-payment/"))
    assert Order.objects.get(pk=order_id).status == "pre_order"


# --- refunds ----------------------------------------------------------------------------------------


def test_a_partial_refund(api, staff_api, table, pasta, paid_order, django_capture_on_commit_callbacks):
    groups = [table_group(table.pk), GROUP_KITCHEN]
    body = {"items": [{"food_id": pasta.pk, "quantity": 1}], "reason": "품절"}
    run = in_commit(
        django_capture_on_commit_callbacks,
        lambda: staff_api.post(f"/api/orders/{paid_order.pk}/refunds/", body, format="json"),
    )

    response, events = capture_events(groups, run)

    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["refunded_amount"] == 12000 and order["total_amount"] == 39000
    assert [(r["food"], r["quantity"], r["amount"], r["reason"]) for r in order["refunds"]] == [
        ({"id": pasta.pk, "name": "파스타", "price": 12000}, 1, 12000, "품절")
    ]
    assert order["refunds"][0]["created_at"]
    assert api.get(f"/api/tables/{table.pk}/").json()["total_spent"] == 27000
    for group in groups:
        assert [(e["type"], e["order"]["refunded_amount"]) for e in events[group]] == [("order.updated", 12000)]


def test_refunds_add_up_to_a_full_refund(api, staff_api, table, pasta, beer, paid_order):
    url = f"/api/orders/{paid_order.pk}/refunds/"
    first = staff_api.post(url, {"items": [{"food_id": beer.pk, "quantity": 1}], "reason": "실수"}, format="json")
    rest = {"items": [{"food_id": pasta.pk, "quantity": 2}, {"food_id": beer.pk, "quantity": 2}], "reason": "전체"}

    second = staff_api.post(url, rest, format="json")

    assert first.status_code == second.status_code == 201
    assert second.json()["refunded_amount"] == 39000
    assert len(second.json()["refunds"]) == 3
    assert Order.objects.get(pk=paid_order.pk).refunded_amount == 39000
    assert api.get(f"/api/tables/{table.pk}/").json()["total_spent"] == 0
    beer.refresh_from_db()
    assert beer.stock == 1  # a refund gives money back, not stock


@pytest.mark.parametrize(
    "items",
    [
        [{"food_id": "PASTA", "quantity": 3}],
        [{"food_id": "BEER", "quantity": 1}, {"food_id": "PASTA", "quantity": 3}],
        [{"food_id": "OTHER", "quantity": 1}],
    ],
)
def test_an_over_refund_is_400_and_changes_nothing(
    staff_api, pasta, beer, paid_order, items, django_capture_on_commit_callbacks
):
    names = {"PASTA": pasta.pk, "BEER": beer.pk, "OTHER": 999999}
    body = {"items": [{**line, "food_id": names[line["food_id"]]} for line in items], "reason": ""}
    url = f"/api/orders/{paid_order.pk}/refunds/"
    assert staff_api.post(url, {"items": [{"food_id": pasta.pk, "quantity": 1}]}, format="json").status_code == 201

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_api.post(url, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "over_refund"
    assert Refund.objects.count() == 1
    assert Order.objects.get(pk=paid_order.pk).refunded_amount == 12000
    assert callbacks == []


def test_an_unpaid_pre_order_cannot_be_refunded(api, staff_api, table, pasta):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]

    response = staff_api.post(
        f"/api/orders/{order_id}/refunds/", {"items": [{"food_id": pasta.pk, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 409
    assert Refund.objects.count() == 0


def test_a_refund_of_an_unknown_order_is_404(staff_api, pasta):
    response = staff_api.post(
        "/api/orders/00000000-0000-0000-0000-000000000000/refunds/",
        {"items": [{"food_id": pasta.pk, "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 404 and response.json()["code"] == "order_not_found"


@pytest.mark.parametrize("client_name", ["anonymous", "customer"])
def test_only_staff_refund(customer_api, pasta, paid_order, client_name):
    client = APIClient() if client_name == "anonymous" else customer_api

    response = client.post(
        f"/api/orders/{paid_order.pk}/refunds/", {"items": [{"food_id": pasta.pk, "quantity": 1}]}, format="json"
    )

    _forbidden(client_name, response)
    assert Refund.objects.count() == 0
    assert Order.objects.get(pk=paid_order.pk).refunded_amount == 0


# --- the payment list -------------------------------------------------------------------------------


def test_the_payment_list_is_newest_first_and_filters_by_outcome(api, staff_api, table, pasta):
    pre_order(api, table, (pasta, 1), payer_name="홍길동")
    deliver(api, deposit_body("없는사람", 1000), trace_id="t-1")
    deliver(api, deposit_body("홍길동", 12000), trace_id="t-2")
    deliver(api, deposit_body("또없는사람", 2000), trace_id="t-3")

    everything = staff_api.get("/api/payments/")
    unmatched = staff_api.get("/api/payments/?outcome=unmatched")
    ambiguous = staff_api.get("/api/payments/?outcome=ambiguous")

    assert everything.status_code == unmatched.status_code == ambiguous.status_code == 200
    assert [e["trace_id"] for e in everything.json()] == ["t-3", "t-2", "t-1"]
    assert [e["trace_id"] for e in unmatched.json()] == ["t-3", "t-1"]
    assert ambiguous.json() == []
    event = everything.json()[1]
    assert set(event) == {
        "id",
        "trace_id",
        "kind",
        "transaction_name",
        "amount",
        "outcome",
        "order_id",
        "received_at",
        "raw",
    }
    assert (event["kind"], event["transaction_name"], event["amount"], event["outcome"]) == (
        "deposit",
        "홍길동",
        12000,
        "matched",
    )
    assert event["order_id"] == str(Order.objects.get().pk)
    assert event["raw"] == deposit_body("홍길동", 12000)


def test_the_payment_list_refuses_an_unknown_outcome(staff_api):
    response = staff_api.get("/api/payments/?outcome=lost")

    assert response.status_code == 400 and response.json()["code"] == "invalid"


@pytest.mark.parametrize("client_name", ["anonymous", "customer"])
def test_only_staff_see_payments(customer_api, client_name):
    client = APIClient() if client_name == "anonymous" else customer_api

    _forbidden(client_name, client.get("/api/payments/"))


# --- manual matching --------------------------------------------------------------------------------


@pytest.fixture
def unmatched_deposit(api):
    assert deliver(api, deposit_body("홍길동(엄마)", 12000)).status_code == 200
    event = PaymentEvent.objects.get()
    assert event.outcome == "unmatched"
    return event


def test_staff_match_an_unmatched_deposit_to_a_pending_pre_order(
    api, staff_api, table, pasta, unmatched_deposit, django_capture_on_commit_callbacks
):
    order_id = pre_order(api, table, (pasta, 1), payer_name="홍길동").json()["order_id"]
    groups = [table_group(table.pk), GROUP_KITCHEN]
    run = in_commit(
        django_capture_on_commit_callbacks,
        lambda: staff_api.post(f"/api/payments/{unmatched_deposit.pk}/match/", {"order_id": order_id}, format="json"),
    )

    response, events = capture_events(groups, run)

    assert response.status_code == 200
    assert response.json()["id"] == order_id and response.json()["status"] == "completed"
    unmatched_deposit.refresh_from_db()
    assert unmatched_deposit.outcome == "matched" and str(unmatched_deposit.order_id) == order_id
    for group in groups:
        assert [(e["type"], e["order"]["id"]) for e in events[group]] == [("order.paid", order_id)]


def test_matching_a_different_amount_is_409_and_changes_nothing(api, staff_api, table, pasta, unmatched_deposit):
    order_id = pre_order(api, table, (pasta, 2), payer_name="홍길동").json()["order_id"]

    response = staff_api.post(f"/api/payments/{unmatched_deposit.pk}/match/", {"order_id": order_id}, format="json")

    assert response.status_code == 409
    assert Order.objects.get(pk=order_id).status == "pre_order"
    unmatched_deposit.refresh_from_db()
    assert (unmatched_deposit.outcome, unmatched_deposit.order_id) == ("unmatched", None)


def test_matching_an_order_that_is_not_pending_is_409(api, staff_api, table, pasta, unmatched_deposit):
    paid = direct_order(api, table, (pasta, 1)).json()["id"]
    expired = pre_order(api, TableFactory(), (pasta, 1), payer_name="홍길동").json()["order_id"]
    Order.objects.filter(pk=expired).update(status="cancelled", pending_match_key=None)

    for order_id in (paid, expired):
        response = staff_api.post(f"/api/payments/{unmatched_deposit.pk}/match/", {"order_id": order_id}, format="json")
        assert response.status_code == 409
    assert Order.objects.get(pk=expired).status == "cancelled"
    unmatched_deposit.refresh_from_db()
    assert unmatched_deposit.outcome == "unmatched"


def test_a_deposit_is_matched_once(api, staff_api, table, pasta, unmatched_deposit):
    first = pre_order(api, table, (pasta, 1), payer_name="홍길동").json()["order_id"]
    second = pre_order(api, TableFactory(), (pasta, 1), payer_name="홍길순").json()["order_id"]
    url = f"/api/payments/{unmatched_deposit.pk}/match/"
    assert staff_api.post(url, {"order_id": first}, format="json").status_code == 200

    response = staff_api.post(url, {"order_id": second}, format="json")

    assert response.status_code == 409
    assert Order.objects.get(pk=second).status == "pre_order"


@pytest.mark.parametrize("event_id", ["987654", "abc", "0"])
def test_matching_an_unknown_event_is_404(api, staff_api, table, pasta, event_id):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]

    response = staff_api.post(f"/api/payments/{event_id}/match/", {"order_id": order_id}, format="json")

    assert response.status_code == 404
    assert Order.objects.get(pk=order_id).status == "pre_order"


def test_matching_to_an_unknown_order_is_404(staff_api, unmatched_deposit):
    response = staff_api.post(
        f"/api/payments/{unmatched_deposit.pk}/match/",
        {"order_id": "00000000-0000-0000-0000-000000000000"},
        format="json",
    )

    assert response.status_code == 404 and response.json()["code"] == "order_not_found"
    unmatched_deposit.refresh_from_db()
    assert unmatched_deposit.outcome == "unmatched"


@pytest.mark.parametrize("client_name", ["anonymous", "customer"])
def test_only_staff_match(api, customer_api, table, pasta, unmatched_deposit, client_name):
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]
    client = APIClient() if client_name == "anonymous" else customer_api

    _forbidden(
        client_name, client.post(f"/api/payments/{unmatched_deposit.pk}/match/", {"order_id": order_id}, format="json")
    )
    assert Order.objects.get(pk=order_id).status == "pre_order"
