"""POST /api/webhook/payment/: PayAction deliveries (CONTRACT.md section 6)."""

import hashlib
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from ordering.events import GROUP_KITCHEN, GROUP_MENU, GROUP_STAFF, table_group
from ordering.models import Order, OrderItem
from payments.models import PaymentEvent
from payments.services import pre_orders_expire
from tests.api.support import IN_MEMORY_LAYER, EventRecorder
from tests.factories import TableFactory
from tests.payments.support import (
    MALL_ID,
    SAMPLES,
    WEBHOOK_KEY,
    capture_events,
    deliver,
    deposit_body,
    direct_order,
    in_commit,
    match_body,
    pre_order,
)

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture
def pending(api, table, pasta):
    """A pending pre-order of 12000 by 홍길동."""
    response = pre_order(api, table, (pasta, 1), payer_name="홍길동")
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["order_id"])


def _expire_all():
    Order.objects.filter(status="pre_order").update(expires_at=timezone.now() - timedelta(seconds=1))
    pre_orders_expire()


# --- authentication and body ------------------------------------------------------------------------


def test_webhook_without_a_configured_key_is_503(api, pending, settings):
    settings.PAYACTION_WEBHOOK_KEY = ""

    response = deliver(api, deposit_body("홍길동", 12000), key="")

    assert response.status_code == 503
    assert response.json()["code"] == "webhook_not_configured"
    assert PaymentEvent.objects.count() == 0
    assert Order.objects.get(pk=pending.pk).status == "pre_order"


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"null", b"12000", b"[]"])
def test_json_that_is_not_an_object_is_stored_as_ignored(api, pending, raw):
    """Readable, but a notice of nothing: kept for staff and answered 200, so PayAction does not retry it."""
    response = deliver(api, raw=raw)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id) == ("unknown", "ignored", None)
    assert event.raw == {"unparsed": raw.decode()}
    assert Order.objects.get(pk=pending.pk).status == "pre_order"


@pytest.mark.parametrize(
    ("key", "mall"),
    [("wrong-key", "default"), (None, "default"), ("", "default"), ("default", "other-mall"), ("default", None)],
)
def test_a_wrong_key_or_mall_is_401_and_changes_nothing(api, pending, key, mall, django_capture_on_commit_callbacks):
    kwargs = {}
    if key != "default":
        kwargs["key"] = key
    if mall != "default":
        kwargs["mall"] = mall

    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(api, deposit_body("홍길동", 12000), **kwargs)

    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error" and body["code"] == "invalid_webhook_key" and body["detail"]
    assert PaymentEvent.objects.count() == 0
    assert Order.objects.get(pk=pending.pk).status == "pre_order"
    assert callbacks == []


def test_the_mall_id_is_not_checked_when_none_is_configured(api, pending, settings):
    settings.PAYACTION_MALL_ID = ""

    response = deliver(api, deposit_body("홍길동", 12000), mall=None)

    assert response.status_code == 200
    assert Order.objects.get(pk=pending.pk).status == "completed"


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe\x00", b"{"])
def test_an_unreadable_body_is_400_and_stores_nothing(api, pending, raw):
    response = deliver(api, raw=raw)

    assert response.status_code == 400
    assert response.json()["code"] and response.json()["detail"]
    assert PaymentEvent.objects.count() == 0
    assert Order.objects.get(pk=pending.pk).status == "pre_order"


def test_a_readable_but_unknown_body_is_stored_as_ignored(api, pending):
    response = deliver(api, {"hello": "world"})

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id) == ("unknown", "ignored", None)
    assert event.raw == {"hello": "world"}


# --- the two forms ----------------------------------------------------------------------------------


def test_a_match_notice_completes_the_pre_order_by_number(api, table, pending, django_capture_on_commit_callbacks):
    groups = [table_group(table.pk), GROUP_KITCHEN]
    run = in_commit(django_capture_on_commit_callbacks, lambda: deliver(api, match_body(pending.order_number)))

    response, events = capture_events(groups, run)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    order = Order.objects.get(pk=pending.pk)
    assert order.status == "completed" and order.paid_at is not None
    assert list(OrderItem.objects.filter(order=order).values_list("paid_at", flat=True)) == [order.paid_at]
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id, event.order_number) == (
        "match",
        "matched",
        order.pk,
        order.order_number,
    )
    for group in groups:
        assert [(e["type"], e["order"]["id"], e["order"]["status"]) for e in events[group]] == [
            ("order.paid", str(order.pk), "completed")
        ]


def test_a_deposit_completes_the_pending_pre_order_with_that_name_and_amount(
    api, table, pending, django_capture_on_commit_callbacks
):
    other = pre_order(api, TableFactory(), (pending.items.get().food, 2), payer_name="김철수").json()["order_id"]
    groups = [table_group(table.pk), GROUP_KITCHEN]
    body = deposit_body("홍길동", 12000)
    run = in_commit(django_capture_on_commit_callbacks, lambda: deliver(api, body, trace_id="trace-1"))

    response, events = capture_events(groups, run)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    order = Order.objects.get(pk=pending.pk)
    assert order.status == "completed" and order.paid_at is not None
    assert Order.objects.get(pk=other).status == "pre_order"
    event = PaymentEvent.objects.get()
    assert (event.trace_id, event.kind, event.transaction_name, event.amount, event.outcome, event.order_id) == (
        "trace-1",
        "deposit",
        "홍길동",
        12000,
        "matched",
        order.pk,
    )
    assert event.raw == body
    for group in groups:
        assert [(e["type"], e["order"]["id"]) for e in events[group]] == [("order.paid", str(order.pk))]
        assert events[group][0]["order"]["paid_at"] is not None


def _sample_dates() -> list[str]:
    dates = []
    for name in ("deposit_notice", "withdrawal_notice", "match_notice"):
        body = SAMPLES[name]["body"]
        dates += [body[key] for key in ("transaction_date", "processing_date") if key in body]
    return sorted(set(dates))


@pytest.mark.parametrize("when", _sample_dates())
def test_every_date_form_of_the_samples_is_read(api, pending, when):
    response = deliver(api, deposit_body("홍길동", 12000, transaction_date=when, processing_date=when))

    assert response.status_code == 200
    assert Order.objects.get(pk=pending.pk).status == "completed"
    event = PaymentEvent.objects.get()
    naive = datetime.fromisoformat(when.replace(" ", "T")[:19])
    assert event.transaction_at == naive.replace(tzinfo=SEOUL)  # no offset means Asia/Seoul


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2025-09-14T19:20:03", datetime(2025, 9, 14, 19, 20, 3, tzinfo=SEOUL)),
        ("2025-09-14 19:20:03+09:00", datetime(2025, 9, 14, 19, 20, 3, tzinfo=SEOUL)),
        ("2025-09-14T10:20:03Z", datetime(2025, 9, 14, 19, 20, 3, tzinfo=SEOUL)),
        ("2025-09-14 19:20:03.250", datetime(2025, 9, 14, 19, 20, 3, 250000, tzinfo=SEOUL)),
        ("2025-09-14 19:20", datetime(2025, 9, 14, 19, 20, tzinfo=SEOUL)),
        ("어제 저녁", None),
        ("", None),
        (None, None),
        (1757845203, None),
    ],
)
def test_other_date_forms_never_refuse_a_deposit(api, pending, when, expected):
    response = deliver(api, deposit_body("홍길동", 12000, transaction_date=when, processing_date=when))

    assert response.status_code == 200
    assert Order.objects.get(pk=pending.pk).status == "completed"
    assert PaymentEvent.objects.get().transaction_at == expected


def test_the_match_notice_sample_date_is_read(api, pending):
    deliver(api, match_body(pending.order_number))

    assert PaymentEvent.objects.get().transaction_at == datetime(2025, 9, 14, 19, 20, 5, tzinfo=SEOUL)


# --- idempotency ------------------------------------------------------------------------------------


def test_a_replay_with_the_same_trace_id_changes_nothing(api, pending, django_capture_on_commit_callbacks):
    body = deposit_body("홍길동", 12000)
    assert deliver(api, body, trace_id="same-trace").status_code == 200
    paid_at = Order.objects.get(pk=pending.pk).paid_at

    with django_capture_on_commit_callbacks() as callbacks:
        replay = deliver(api, body, trace_id="same-trace")

    assert replay.status_code == 200 and replay.json() == {"status": "success"}
    assert PaymentEvent.objects.count() == 1
    assert Order.objects.get(pk=pending.pk).paid_at == paid_at
    assert callbacks == []


def test_a_replay_of_a_match_notice_changes_nothing(api, pending):
    for _ in range(3):
        assert deliver(api, match_body(pending.order_number), trace_id="match-trace").status_code == 200

    assert PaymentEvent.objects.count() == 1
    assert PaymentEvent.objects.get().outcome == "matched"


def test_without_a_trace_id_a_hash_of_the_body_is_the_key(api, table, pasta, pending):
    second = Order.objects.get(pk=pre_order(api, table, (pasta, 2), payer_name="홍길동").json()["order_id"])
    raw = json.dumps(deposit_body("홍길동", 12000), ensure_ascii=False).encode()

    first = deliver(api, raw=raw, trace_id=None)
    replay = deliver(api, raw=raw, trace_id=None)
    other = deliver(api, deposit_body("홍길동", 24000), trace_id=None)

    assert first.status_code == replay.status_code == other.status_code == 200
    assert PaymentEvent.objects.count() == 2
    stored = PaymentEvent.objects.get(amount=12000)
    assert hashlib.sha256(raw).hexdigest() in stored.trace_id
    assert {o.status for o in Order.objects.filter(pk__in=[pending.pk, second.pk])} == {"completed"}


def test_a_body_that_starts_with_a_byte_order_mark_is_read(api, pending):
    raw = b"\xef\xbb\xbf" + json.dumps(deposit_body("홍길동", 12000), ensure_ascii=False).encode()

    assert deliver(api, raw=raw, trace_id="with-bom").status_code == 200

    pending.refresh_from_db()
    assert pending.status == "completed"
    assert PaymentEvent.objects.get(trace_id="with-bom").outcome == "matched"


@pytest.mark.parametrize("accept", ["text/plain", "application/xml", "text/html", "application/json"])
def test_a_delivery_is_read_whatever_it_accepts_in_return(api, pending, accept):
    """PayAction does not retry a 4xx: a 406 for its Accept header would lose the deposit."""
    raw = json.dumps(deposit_body("홍길동", 12000), ensure_ascii=False).encode()
    response = api.post(
        "/api/webhook/payment/",
        data=raw,
        content_type="application/json",
        headers={"x-webhook-key": WEBHOOK_KEY, "x-mall-id": MALL_ID, "x-trace-id": "t", "accept": accept},
    )

    assert (response.status_code, response.json()) == (200, {"status": "success"})
    assert PaymentEvent.objects.get(trace_id="t").outcome == "matched"


def test_trace_ids_longer_than_the_column_are_told_apart_past_its_length(api, table, pasta, pending):
    second = Order.objects.get(pk=pre_order(api, table, (pasta, 2), payer_name="김철수").json()["order_id"])
    first_id, second_id = "p" * 300 + "A", "p" * 300 + "B"

    assert deliver(api, deposit_body("홍길동", 12000), trace_id=first_id).status_code == 200
    assert deliver(api, deposit_body("김철수", 24000), trace_id=second_id).status_code == 200
    assert deliver(api, deposit_body("김철수", 24000), trace_id=second_id).status_code == 200  # a replay

    assert PaymentEvent.objects.count() == 2
    assert {o.status for o in Order.objects.filter(pk__in=[pending.pk, second.pk])} == {"completed"}


def test_a_match_notice_for_a_paid_order_is_a_duplicate(api, pending):
    deliver(api, deposit_body("홍길동", 12000))
    paid_at = Order.objects.get(pk=pending.pk).paid_at

    response = deliver(api, match_body(pending.order_number))

    assert response.status_code == 200
    assert PaymentEvent.objects.order_by("id").last().outcome == "duplicate"
    assert Order.objects.get(pk=pending.pk).paid_at == paid_at


# --- matching ---------------------------------------------------------------------------------------


def test_the_same_name_with_different_amounts_is_matched_by_amount(api, table, pasta, beer):
    small = pre_order(api, table, (pasta, 1), payer_name="이수진").json()["order_id"]
    large = pre_order(api, TableFactory(), (pasta, 1), (beer, 1), payer_name="이수진").json()["order_id"]

    deliver(api, deposit_body("이수진", 17000))

    assert Order.objects.get(pk=large).status == "completed"
    assert Order.objects.get(pk=small).status == "pre_order"

    deliver(api, deposit_body("이수진", 12000))

    assert Order.objects.get(pk=small).status == "completed"
    assert [str(e.order_id) for e in PaymentEvent.objects.order_by("id")] == [large, small]


def test_two_expired_pre_orders_with_the_same_name_and_amount_are_ambiguous(
    settings, api, table, beer, django_capture_on_commit_callbacks
):
    first = pre_order(api, table, (beer, 1), payer_name="최강").json()["order_id"]
    _expire_all()
    second = pre_order(api, TableFactory(), (beer, 1), payer_name="최강").json()["order_id"]
    _expire_all()

    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(api, deposit_body("최강", 5000))

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.outcome, event.order_id) == ("ambiguous", None)
    assert set(Order.objects.filter(pk__in=[first, second]).values_list("status", flat=True)) == {"cancelled"}
    beer.refresh_from_db()
    assert beer.stock == 4
    staff_only_told(settings, callbacks, ["ambiguous"])


def test_an_unmatched_deposit_is_stored_for_staff(settings, api, pending, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(api, deposit_body("모르는사람", 12000))
        wrong_amount = deliver(api, deposit_body("홍길동", 12001))

    assert response.status_code == wrong_amount.status_code == 200
    assert list(PaymentEvent.objects.values_list("outcome", "order_id")) == [("unmatched", None)] * 2
    assert Order.objects.get(pk=pending.pk).status == "pre_order"
    staff_only_told(settings, callbacks, ["unmatched"] * 2)


def test_a_match_notice_for_an_unknown_order_number_is_unmatched(api, pending):
    response = deliver(api, match_body("NOPE0000"))

    assert response.status_code == 200
    assert PaymentEvent.objects.get().outcome == "unmatched"
    assert Order.objects.get(pk=pending.pk).status == "pre_order"


def test_a_notice_that_is_not_a_match_is_ignored(api, pending):
    response = deliver(api, {**match_body(pending.order_number), "order_status": "매칭대기"})

    assert response.status_code == 200
    assert PaymentEvent.objects.get().outcome == "ignored"
    assert Order.objects.get(pk=pending.pk).status == "pre_order"


def test_a_withdrawal_is_stored_as_ignored(api, pending, django_capture_on_commit_callbacks):
    body = {**SAMPLES["withdrawal_notice"]["body"], "transaction_name": "홍길동", "amount": 12000}

    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(api, body)

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id) == ("withdrawal", "ignored", None)
    assert Order.objects.get(pk=pending.pk).status == "pre_order"
    assert callbacks == []


def test_the_withdrawal_sample_is_accepted(api):
    sample = SAMPLES["withdrawal_notice"]

    response = deliver(api, sample["body"], trace_id=sample["headers"]["x-trace-id"])

    assert response.status_code == 200
    assert PaymentEvent.objects.get().trace_id == sample["headers"]["x-trace-id"]


# --- late deposits ----------------------------------------------------------------------------------


def test_a_late_deposit_revives_an_expired_pre_order_when_stock_allows(
    api, table, beer, django_capture_on_commit_callbacks
):
    order_id = pre_order(api, table, (beer, 3), payer_name="늦은입금").json()["order_id"]
    _expire_all()
    beer.refresh_from_db()
    assert beer.stock == 4
    groups = [table_group(table.pk), GROUP_KITCHEN]
    run = in_commit(django_capture_on_commit_callbacks, lambda: deliver(api, deposit_body("늦은입금", 15000)))

    response, events = capture_events(groups, run)

    assert response.status_code == 200
    order = Order.objects.get(pk=order_id)
    assert order.status == "completed" and order.paid_at is not None
    assert list(OrderItem.objects.filter(order=order).values_list("paid_at", flat=True)) == [order.paid_at]
    beer.refresh_from_db()
    assert beer.stock == 1
    assert (PaymentEvent.objects.get().outcome, str(PaymentEvent.objects.get().order_id)) == ("matched", order_id)
    for group in groups:
        assert [(e["type"], e["order"]["id"]) for e in events[group]] == [("order.paid", order_id)]


def test_a_late_match_notice_also_revives(api, table, beer):
    created = pre_order(api, table, (beer, 1), payer_name="늦은매칭").json()
    _expire_all()

    deliver(api, match_body(created["order_number"]))

    assert Order.objects.get(pk=created["order_id"]).status == "completed"
    beer.refresh_from_db()
    assert beer.stock == 3


def test_a_late_deposit_without_stock_needs_a_refund_and_changes_nothing(
    settings, api, table, beer, django_capture_on_commit_callbacks
):
    order_id = pre_order(api, table, (beer, 3), payer_name="늦은입금").json()["order_id"]
    _expire_all()
    assert direct_order(api, TableFactory(), (beer, 2)).status_code == 201  # 2 left: not enough for 3
    beer.refresh_from_db()
    stock_before = beer.stock

    with django_capture_on_commit_callbacks() as callbacks:
        response = deliver(api, deposit_body("늦은입금", 15000))

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert event.outcome == "needs_refund"
    order = Order.objects.get(pk=order_id)
    assert order.status == "cancelled" and order.paid_at is None
    beer.refresh_from_db()
    assert beer.stock == stock_before == 2
    staff_only_told(settings, callbacks, ["needs_refund"])


# --- faults -----------------------------------------------------------------------------------------


def test_a_passing_database_fault_is_5xx_and_a_retry_succeeds(api, pending, django_capture_on_commit_callbacks):
    failures = []

    def fail_the_order_update(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE") and "ordering_order" in sql and not failures:
            failures.append(sql)
            raise OperationalError(2006, "MySQL server has gone away")
        return execute(sql, params, many, context)

    body = deposit_body("홍길동", 12000)
    with django_capture_on_commit_callbacks() as callbacks, connection.execute_wrapper(fail_the_order_update):
        response = deliver(api, body, trace_id="retry-me")

    assert failures, "the fault was not injected"
    assert 500 <= response.status_code < 600
    assert response.json()["code"]
    assert PaymentEvent.objects.count() == 0  # nothing half-done: the delivery is not stored as processed
    assert Order.objects.get(pk=pending.pk).status == "pre_order"
    assert callbacks == []

    retry = deliver(api, body, trace_id="retry-me")

    assert retry.status_code == 200
    assert Order.objects.get(pk=pending.pk).status == "completed"
    assert PaymentEvent.objects.get().outcome == "matched"


def staff_only_told(settings, callbacks, outcomes):
    """What a delivery that completes nothing broadcasts: a payment.received to the staff screens, per delivery,
    and nothing to the kitchen or the menu."""
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    recorder = EventRecorder().subscribe(GROUP_STAFF, GROUP_KITCHEN, GROUP_MENU)
    for callback in callbacks:
        callback()
    events = recorder.drain()
    assert [(e["type"], e["payment"]["outcome"]) for e in events] == [("payment.received", o) for o in outcomes]
