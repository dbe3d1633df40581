"""Payments that needed a person get settled, and leave the staff screens' list (CONTRACT.md sections 5, 6, 8).

A treasurer must be able to close every delivery on the list: by matching it, by confirming the order it was
for, or by marking it dealt with (the money given back). A deposit whose name or amount cannot be read is on
the list, since money may have come. A name sent in another Unicode form is the same name."""

import json
import unicodedata
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import StaffAction
from ordering.events import GROUP_STAFF
from ordering.models import Order
from payments.models import PaymentEvent
from payments.selectors import staff_snapshot_part
from payments.services import pre_orders_expire
from tests.factories import TableFactory
from tests.payments.support import capture_events, deliver, deposit_body, direct_order, in_commit, pre_order

pytestmark = pytest.mark.django_db


def open_ids(staff_api) -> list[int]:
    response = staff_api.get("/api/payments/?open=true")
    assert response.status_code == 200
    return [event["id"] for event in response.json()]


def staff_snapshot_ids() -> list[int]:
    return [event["id"] for event in staff_snapshot_part()["payments"]]


def expire_all() -> None:
    Order.objects.filter(status="pre_order").update(expires_at=timezone.now() - timedelta(seconds=1))
    pre_orders_expire()


@pytest.fixture
def unmatched(api):
    deliver(api, deposit_body("모르는사람", 7000), trace_id="unknown-payer")
    return PaymentEvent.objects.get(trace_id="unknown-payer")


def test_staff_resolve_a_deposit_no_order_takes_and_every_screen_drops_it(
    staff_api, unmatched, staff, django_capture_on_commit_callbacks
):
    assert open_ids(staff_api) == staff_snapshot_ids() == [unmatched.pk]
    run = in_commit(
        django_capture_on_commit_callbacks,
        lambda: staff_api.post(f"/api/payments/{unmatched.pk}/resolve/", {"note": "계좌로 돌려줌"}, format="json"),
    )

    response, events = capture_events([GROUP_STAFF], run)

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["outcome"]) == (unmatched.pk, "unmatched")  # what it was
    assert [(e["type"], e["payment"]["id"]) for e in events[GROUP_STAFF]] == [("payment.resolved", unmatched.pk)]
    assert open_ids(staff_api) == staff_snapshot_ids() == []
    assert [e["id"] for e in staff_api.get("/api/payments/?outcome=unmatched").json()] == [unmatched.pk]  # history
    action = StaffAction.objects.get(action="payment_resolve")
    assert (action.user, action.detail) == (staff, {"payment_id": unmatched.pk, "note": "계좌로 돌려줌"})


def test_a_second_resolve_keeps_the_first(staff_api, unmatched):
    assert staff_api.post(f"/api/payments/{unmatched.pk}/resolve/", {}, format="json").status_code == 200
    first = PaymentEvent.objects.get(pk=unmatched.pk).resolved_at

    again = staff_api.post(f"/api/payments/{unmatched.pk}/resolve/", {"note": "또"}, format="json")

    assert again.status_code == 200
    assert PaymentEvent.objects.get(pk=unmatched.pk).resolved_at == first
    assert StaffAction.objects.filter(action="payment_resolve").count() == 1


def test_only_a_delivery_needing_a_person_is_resolved(api, staff_api, table, pasta):
    pre_order(api, table, (pasta, 1), payer_name="홍길동")
    deliver(api, deposit_body("홍길동", 12000), trace_id="paid")
    matched = PaymentEvent.objects.get(trace_id="paid")

    response = staff_api.post(f"/api/payments/{matched.pk}/resolve/", {}, format="json")

    assert response.status_code == 409 and response.json()["code"] == "payment_not_open"
    assert PaymentEvent.objects.get(pk=matched.pk).resolved_at is None


@pytest.mark.parametrize(
    ("event_id", "body", "status", "code"),
    [("424242", {}, 404, "payment_not_found"), (None, {"note": "가" * 201}, 400, "invalid")],
)
def test_resolve_refuses_what_it_cannot_take(staff_api, unmatched, event_id, body, status, code):
    response = staff_api.post(f"/api/payments/{event_id or unmatched.pk}/resolve/", body, format="json")

    assert response.status_code == status and response.json()["code"] == code
    assert open_ids(staff_api) == [unmatched.pk]


def test_resolve_is_for_staff_only(api, unmatched):
    response = api.post(f"/api/payments/{unmatched.pk}/resolve/", {}, format="json")

    assert response.status_code == 401
    assert PaymentEvent.objects.get(pk=unmatched.pk).resolved_at is None


def test_an_expired_order_confirmed_after_a_restock_is_paid_by_the_deposit_that_was_to_be_given_back(
    api, staff_api, table, beer, django_capture_on_commit_callbacks
):
    order_id = pre_order(api, table, (beer, 3), payer_name="늦은입금").json()["order_id"]
    expire_all()
    assert direct_order(api, TableFactory(), (beer, 4)).status_code == 201  # the rest of the beer
    deliver(api, deposit_body("늦은입금", 15000), trace_id="late")
    late = PaymentEvent.objects.get(trace_id="late")
    assert late.outcome == "needs_refund" and open_ids(staff_api) == [late.pk]
    assert staff_api.patch(f"/api/foods/{beer.pk}/", {"stock": 10}, format="json").status_code == 200
    run = in_commit(
        django_capture_on_commit_callbacks, lambda: staff_api.post(f"/api/orders/{order_id}/confirm-payment/")
    )

    response, events = capture_events([GROUP_STAFF], run)

    assert response.status_code == 200 and response.json()["status"] == "completed"
    late.refresh_from_db()
    assert (late.outcome, str(late.order_id), late.resolved_at is not None) == ("matched", order_id, True)
    assert ("payment.resolved", late.pk) in [(e["type"], e.get("payment", {}).get("id")) for e in events[GROUP_STAFF]]
    assert open_ids(staff_api) == staff_snapshot_ids() == []


def test_a_manual_match_says_so_to_every_staff_screen(api, staff_api, table, pasta, django_capture_on_commit_callbacks):
    order_id = pre_order(api, table, (pasta, 1), payer_name="홍길동").json()["order_id"]
    deliver(api, deposit_body("홍길동은행", 12000), trace_id="other-name")
    event = PaymentEvent.objects.get(trace_id="other-name")
    run = in_commit(
        django_capture_on_commit_callbacks,
        lambda: staff_api.post(f"/api/payments/{event.pk}/match/", {"order_id": order_id}, format="json"),
    )

    response, events = capture_events([GROUP_STAFF], run)

    assert response.status_code == 200
    assert ("payment.resolved", event.pk) in [(e["type"], e.get("payment", {}).get("id")) for e in events[GROUP_STAFF]]
    assert open_ids(staff_api) == []


def test_a_deposit_name_in_another_unicode_form_is_the_same_name(api, table, pasta):
    order_id = pre_order(api, table, (pasta, 1), payer_name="이영희").json()["order_id"]
    decomposed = unicodedata.normalize("NFD", "이영희")
    assert decomposed != "이영희"

    deliver(api, deposit_body(decomposed, 12000))

    assert Order.objects.get(pk=order_id).status == "completed"
    assert PaymentEvent.objects.get().outcome == "matched"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"transaction_name": ""}, id="no-name"),
        pytest.param({"transaction_name": None}, id="null-name"),
        pytest.param({"amount": "1,000"}, id="amount-with-a-comma"),
        pytest.param({"amount": 1000.5}, id="not-whole-won"),
    ],
)
def test_a_deposit_that_cannot_be_read_is_put_before_staff(
    api, staff_api, table, pasta, fields, django_capture_on_commit_callbacks
):
    body = {**deposit_body("홍길동", 1000), **fields}
    run = in_commit(django_capture_on_commit_callbacks, lambda: deliver(api, raw=json.dumps(body).encode()))

    response, events = capture_events([GROUP_STAFF], run)

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id) == ("deposit", "unmatched", None)
    assert [(e["type"], e["payment"]["id"]) for e in events[GROUP_STAFF]] == [("payment.received", event.pk)]
    assert open_ids(staff_api) == [event.pk]
