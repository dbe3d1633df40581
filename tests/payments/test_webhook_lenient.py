"""POST /api/webhook/payment/: a delivery is never lost for what is inside it (CONTRACT.md section 6).

Odd numbers, lone surrogates, impossible dates and deep nesting are stored with the outcome that fits and
answered 200; the body's text is kept for staff. Only a body that is not JSON at all is 400. Trace ids are
compared exactly, on MariaDB too.
"""

import json

import pytest

from ordering.models import Order
from payments.models import PaymentEvent
from tests.factories import TableFactory
from tests.payments.support import deliver, deposit_body, match_body, pre_order

pytestmark = pytest.mark.django_db
LIMIT = 1024 * 1024  # REQUEST_BODY_BYTES_BY_PATH["/api/webhook/payment/"]


@pytest.fixture
def pending(api, table, pasta):
    """A pending pre-order of 12000 by 홍길동."""
    response = pre_order(api, table, (pasta, 1), payer_name="홍길동")
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["order_id"])


def deposit_text(amount: str = "12000", **tokens: str) -> str:
    """A deposit notice for 홍길동 as JSON text; `amount` and `tokens` are raw JSON put in as they are."""
    fields = {key: json.dumps(value, ensure_ascii=False) for key, value in deposit_body("홍길동", 12000).items()}
    fields.update(amount=amount, **tokens)
    return "{" + ", ".join(f'"{key}": {value}' for key, value in fields.items()) + "}"


def send(api, text: str, **kwargs):
    return deliver(api, raw=text.encode("utf-8"), **kwargs)


def assert_paid(order: Order) -> None:
    order.refresh_from_db()
    assert order.status == "completed" and order.paid_at is not None


def assert_untouched(order: Order) -> None:
    order.refresh_from_db()
    assert order.status == "pre_order" and order.paid_at is None


# --- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 5000, '"²"', '"--5"', '"' + "1" * 5000 + '"'],
)
def test_an_amount_that_is_not_a_finite_whole_number_is_stored_for_staff(api, pending, amount):
    text = deposit_text(amount)

    response = send(api, text, trace_id="odd-amount")

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.trace_id, event.kind, event.transaction_name) == ("odd-amount", "deposit", "홍길동")
    assert (event.amount, event.outcome, event.order_id) == (None, "unmatched", None)  # money may have come
    if amount.startswith('"'):
        assert event.raw == json.loads(text)  # a string amount is plain JSON: kept as it is
    else:
        assert event.raw == {"unparsed": text}  # no database holds NaN or inf as JSON: the text is kept
    assert_untouched(pending)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000])
def test_an_odd_number_beside_a_good_amount_still_pays_the_order(api, pending, number):
    text = deposit_text(balance=number)

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.amount, event.outcome, event.order_id) == (12000, "matched", pending.pk)
    assert event.raw == {"unparsed": text}
    assert_paid(pending)


# --- lone surrogates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tokens",
    [
        {"bank_account_id": r'"\ud800"'},
        {"bank_account_id": r'"a\udfffb"'},
        {"bank_code": r'"\ude00\ud83d"'},  # a pair in the wrong order is two lone halves
        {r"\ud800": '"a key"'},
    ],
)
def test_a_lone_surrogate_beside_the_name_and_amount_still_pays_the_order(api, pending, tokens):
    text = deposit_text(**tokens)

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.transaction_name, event.outcome, event.order_id) == ("홍길동", "matched", pending.pk)
    assert event.raw == {"unparsed": text}  # utf8mb4 cannot hold U+D800: the text, with its escape, is kept
    assert_paid(pending)


def test_a_lone_surrogate_in_the_name_is_stored_unmatched_for_staff(api, pending):
    text = deposit_text(transaction_name=r'"홍길동\udc00"')

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.transaction_name, event.amount) == ("deposit", "홍길동\ufffd", 12000)
    assert (event.outcome, event.order_id) == ("unmatched", None)
    assert event.raw == {"unparsed": text}
    assert_untouched(pending)


def test_a_surrogate_sent_as_raw_bytes_is_read_like_its_escape(api, pending):
    raw = deposit_text(bank_account_id='"a\udbffb"').encode("utf-8", "surrogatepass")
    assert b'"a\xed\xaf\xbfb"' in raw

    response = deliver(api, raw=raw)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.outcome, event.order_id) == ("matched", pending.pk)
    assert event.raw == {"unparsed": deposit_text(bank_account_id=r'"a\udbffb"')}
    assert_paid(pending)


def test_a_lone_surrogate_in_an_order_number_is_unmatched(api, pending):
    body = {**match_body(pending.order_number), "order_number": "\ud800"}
    text = json.dumps(body)  # the lone surrogate goes as its escape, \ud800

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.order_number, event.outcome, event.order_id) == ("match", "\ufffd", "unmatched", None)
    assert event.raw == {"unparsed": text}
    assert_untouched(pending)


def test_well_formed_escapes_and_control_characters_stay_plain_json(api, pending):
    body = deposit_body("홍길동", 12000, bank_account_id="\U0001f600", bank_code="\x00\x1f", memo={"a": [[1, None]]})
    text = json.dumps(body)  # ASCII: the emoji goes as the pair \ud83d\ude00

    response = send(api, text)

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.outcome, event.order_id) == ("matched", pending.pk)
    assert event.raw == body
    assert_paid(pending)


# --- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        "0000-01-01T00:00:00",
        "0001-01-01T00:00:00",  # Seoul time: year 0 in UTC
        "0999-12-31T23:59:59+00:00",  # before what MariaDB's DATETIME holds
        "99999-01-01T00:00:00",
        "+99999-01-01T00:00:00",
        "9999-12-31T23:59:59-09:00",  # year 10000 in UTC
        "2026-13-01 12:00:00",
        "2026-02-30 12:00:00",
        "2026-02-30",
        "2026-06-01T24:61:00",
        "2026-06-01T12:00:00+24:00",
        "2026-06-01T12:00:00\ud800",
    ],
)
def test_a_date_out_of_range_never_refuses_a_deposit(api, pending, when):
    body = deposit_body("홍길동", 12000, transaction_date=when, processing_date=when)
    text = json.dumps(body)

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.outcome, event.order_id, event.transaction_at) == ("matched", pending.pk, None)
    assert event.raw == (body if "\ud800" not in when else {"unparsed": text})
    assert_paid(pending)


def test_a_bad_transaction_date_falls_back_to_the_processing_date(api, pending):
    body = deposit_body("홍길동", 12000, transaction_date="2026-02-30 12:00:00")

    response = send(api, json.dumps(body))

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert event.outcome == "matched"
    assert event.transaction_at.isoformat() == "2025-09-14T10:20:05+00:00"  # processing_date, +09:00
    assert event.raw == body


@pytest.mark.parametrize("when", ["0000-01-01T00:00:00", "2026-02-30T12:00:00+09:00"])
def test_a_match_notice_with_an_impossible_date_still_matches(api, pending, when):
    body = {**match_body(pending.order_number), "processing_date": when}

    response = send(api, json.dumps(body))

    assert response.status_code == 200
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id, event.transaction_at) == ("match", "matched", pending.pk, None)
    assert event.raw == body
    assert_paid(pending)


# --- nesting ----------------------------------------------------------------------------------------


def nested(opening: str, closing: str, depth: int, inner: str = "1") -> str:
    return opening * depth + inner + closing * depth


@pytest.mark.parametrize(
    "memo",
    [
        nested("[", "]", 40),  # json.loads reads it; MariaDB's JSON_VALID stops at 32 levels
        nested("[", "]", 30_000),  # far past Python's recursion limit
        nested("[", "]", 500_000),  # near the webhook's 1 MiB body limit
        nested('{"a": ', "}", 8_000),
        nested("[", "]", 20_000, inner='{"x": [NaN, "\\ud800", 1e400, true, null, "", {}, []]}'),
    ],
    ids=["40-arrays", "30000-arrays", "500000-arrays", "8000-objects", "20000-with-odd-values"],
)
def test_nesting_of_any_depth_beside_the_name_and_amount_still_pays_the_order(api, pending, memo):
    text = deposit_text(memo=memo)
    assert len(text.encode()) <= LIMIT

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.transaction_name, event.amount) == ("deposit", "홍길동", 12000)
    assert (event.outcome, event.order_id) == ("matched", pending.pk)
    assert event.raw == {"unparsed": text}
    assert_paid(pending)


def test_a_deep_array_instead_of_an_object_is_stored_as_ignored(api, pending):
    text = nested("[", "]", 20_000)

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.outcome, event.order_id) == ("unknown", "ignored", None)
    assert event.raw == {"unparsed": text}
    assert_untouched(pending)


def test_a_deposit_nested_deep_in_every_field_is_stored_for_staff(api, pending):
    text = '{"transaction_type": "deposited", "transaction_name": ' + nested("[", "]", 10_000, '"홍길동"')
    text += ', "amount": ' + nested("[", "]", 10_000, "12000") + "}"

    response = send(api, text)

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get()
    assert (event.kind, event.transaction_name, event.amount) == ("deposit", "", None)
    assert (event.outcome, event.order_id) == ("unmatched", None)  # a deposit no one could read: staff look
    assert event.raw == {"unparsed": text}
    assert_untouched(pending)


# --- still not JSON ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * (LIMIT - 100),  # deep, never closed
        '{"a": ' + "[" * 10_000 + "1" + "]" * 9_999 + "}}",  # deep, closed wrongly
        '{"a": ' + nested("[", "]", 10_000, "tru") + "}",  # deep, a bad word inside
        '{"a": ' + nested("[", "]", 10_000, '"\x01"') + "}",  # deep, a raw control character in a string
        '{"amount": nan}',
        '{"amount": 1e}',
        '{"amount": 12000,}',
        '{"a": "\x00"}',
        "\ud800",
    ],
    ids=["unclosed", "misclosed", "bad-word", "control-char", "nan", "1e", "comma", "nul", "surrogate"],
)
def test_a_body_that_is_not_json_is_still_400_and_stores_nothing(api, pending, text):
    response = deliver(api, raw=text.encode("utf-8", "surrogatepass"))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_body" and response.json()["detail"]
    assert PaymentEvent.objects.count() == 0
    assert_untouched(pending)


# --- staff read what was kept -----------------------------------------------------------------------


def test_staff_list_every_kept_delivery(api, staff_api, pending):
    texts = [
        deposit_text("NaN"),
        deposit_text(transaction_name=r'"\ud800"'),
        deposit_text(memo=nested("[", "]", 20_000)),
    ]
    for n, text in enumerate(texts):
        assert send(api, text, trace_id=f"kept-{n}").status_code == 200

    response = staff_api.get("/api/payments/")

    assert response.status_code == 200
    listed = {event["trace_id"]: event for event in response.json()}
    assert {trace: (e["outcome"], e["raw"]) for trace, e in listed.items()} == {
        "kept-0": ("unmatched", {"unparsed": texts[0]}),
        "kept-1": ("unmatched", {"unparsed": texts[1]}),
        "kept-2": ("matched", {"unparsed": texts[2]}),
    }
    assert listed["kept-1"]["transaction_name"] == "\ufffd"


# --- trace ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), [("Ab1", "aB1"), ("trace-e", "trace-é")])
def test_trace_ids_that_differ_only_in_case_or_accent_are_two_deliveries(api, table, pasta, pending, first, second):
    other = pre_order(api, TableFactory(), (pasta, 1), payer_name="김철수").json()["order_id"]

    one = deliver(api, deposit_body("홍길동", 12000), trace_id=first)
    two = deliver(api, deposit_body("김철수", 12000), trace_id=second)
    replay = deliver(api, deposit_body("김철수", 12000), trace_id=second)

    assert one.status_code == two.status_code == replay.status_code == 200
    events = list(PaymentEvent.objects.order_by("id").values_list("trace_id", "outcome", "transaction_name"))
    assert events == [(first, "matched", "홍길동"), (second, "matched", "김철수")]
    # Lookups are exact too: each id finds its own event, a third spelling finds none.
    assert PaymentEvent.objects.get(trace_id=first).transaction_name == "홍길동"
    assert PaymentEvent.objects.get(trace_id=second).transaction_name == "김철수"
    assert not PaymentEvent.objects.filter(trace_id=first.upper()).exists()
    assert_paid(pending)
    assert Order.objects.get(pk=other).status == "completed"
