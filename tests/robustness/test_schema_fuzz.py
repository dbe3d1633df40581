"""Schemathesis over every operation of /api/schema/: valid and invalid input, as staff.

Zero 5xx, and every response (status, content type, headers, body) must be one the schema describes,
errors included. Runs the WSGI app in-process on a seeded database; half of the valid cases use real
ids (tables, foods, orders, payments) so that success paths are exercised, not only 404s.
"""

import json
import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kitchen.services import order_kitchen_status_set
from ordering.services import order_place
from payments.models import PaymentEvent
from payments.services import payment_event_handle, pre_order_create
from tests.factories import FoodFactory, StaffFactory, TableFactory
from tests.robustness.conftest import WEBHOOK_KEY

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Modest in CI; FUZZ_MAX_EXAMPLES=300 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    database="none",
    deterministic=True,
)

# Real ids of the current test's seed; the hook below swaps them into valid cases.
SEEDED: dict = {}


@pytest.fixture
def seeded(settings):
    settings.PAYACTION_WEBHOOK_KEY = WEBHOOK_KEY
    settings.THROTTLE_ENABLED = False
    tables = [TableFactory() for _ in range(3)]
    foods = [
        FoodFactory(price=12000),
        FoodFactory(price=5000, category="drinks"),
        FoodFactory(price=8000, stock=400),
        FoodFactory(price=3000, stock=0, sold_out=True),
    ]
    placed = order_place(table_id=tables[0].pk, quantities={foods[0].pk: 1, foods[2].pk: 2})
    order_kitchen_status_set(order_id=placed.pk, kitchen_status="cooking")
    pending = pre_order_create(
        table_id=tables[1].pk, payer_name="홍길동", total_amount=12000, quantities={foods[0].pk: 1}
    )
    event = payment_event_handle(
        raw_body=json.dumps({"transaction_type": "deposited", "transaction_name": "김철수", "amount": 5000}).encode(),
        trace_id="seed-unmatched",
    )
    SEEDED.clear()
    SEEDED.update(
        table_id=[str(t.pk) for t in tables],
        food_id=[f.pk for f in foods],
        prices={f.pk: f.price for f in foods},
        order_id=[str(placed.pk), str(pending.pk)],
        event_id=[event.pk],
        token=Token.objects.create(user=StaffFactory()).key,
    )
    return SEEDED


def _with_real_ids(case, rnd):
    path = dict(case.path_parameters or {})
    for name in ("table_id", "food_id", "order_id", "event_id"):
        if name in path:
            path[name] = rnd.choice(SEEDED[name])
    if path:
        case.path_parameters = path
    body = case.body
    if isinstance(body, dict):
        body = dict(body)
        if "table_id" in body:
            body["table_id"] = rnd.choice(SEEDED["table_id"])
        if "order_id" in body:
            body["order_id"] = rnd.choice(SEEDED["order_id"])
        if isinstance(body.get("items"), list):
            body["items"] = [
                {**line, "food_id": rnd.choice(SEEDED["food_id"])} if isinstance(line, dict) else line
                for line in body["items"]
            ]
            if "total_amount" in body and rnd.random() < 0.7:
                total = 0
                for line in body["items"]:
                    if isinstance(line, dict) and isinstance(line.get("quantity"), int):
                        total += SEEDED["prices"][line["food_id"]] * line["quantity"]
                body["total_amount"] = total
        case.body = body
    return case


@schema.hook
def flatmap_case(context, case):
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE or not SEEDED:
        return st.just(case)
    return st.tuples(st.booleans(), st.randoms(use_true_random=False)).map(
        lambda drawn: _with_real_ids(case, drawn[1]) if drawn[0] else case
    )


@schema.parametrize()
@hypothesis_settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_every_operation_answers_as_its_schema_says(case, seeded):
    checks = CHECKS
    if case.operation.path == "/api/webhook/payment/":
        # By contract PayAction gets 200 for a body it cannot use (stored, never retried): only an
        # unreadable body is a 400. So "invalid data must be refused" does not apply here.
        checks = [check for check in CHECKS if check is not negative_data_rejection]
    case.call_and_validate(
        headers={"Authorization": f"Token {seeded['token']}", "x-webhook-key": WEBHOOK_KEY},
        checks=checks,
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", f"/api/foods/{10**30}/", None),
        ("patch", f"/api/foods/{10**30}/", {"sold_out": True}),
        ("get", f"/api/orders/history/?offset={10**30}", None),
        ("get", f"/api/orders/history/?limit={10**30}", None),
        ("post", f"/api/payments/{10**30}/match/", {"order_id": "7b8404e3-2bff-4de7-88fb-34c417c03b86"}),
        (
            "post",
            "/api/orders/",
            {"table_id": "7b8404e3-2bff-4de7-88fb-34c417c03b86", "items": [{"food_id": 10**30, "quantity": 1}]},
        ),
    ],
)
def test_out_of_range_numbers_are_refused_not_a_server_error(seeded, staff_api, method, path, body):
    """Numbers past what the database holds are the input's fault: a 4xx, never a 5xx to be retried."""
    staff_api.credentials(HTTP_AUTHORIZATION=f"Token {seeded['token']}", HTTP_X_WEBHOOK_KEY=WEBHOOK_KEY)
    response = getattr(staff_api, method)(path, body, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    assert {"code", "detail"} <= set(response.json())


@pytest.mark.parametrize("amount", [10**20, -(10**20)])
def test_a_deposit_with_an_impossible_amount_is_stored_for_staff_and_answered_200(seeded, api, amount):
    """Permanently unusable, not a passing fault: 200 so PayAction stops, kept for staff (unmatched: a person
    looks), nothing matched."""
    body = {"transaction_type": "deposited", "transaction_name": "홍길동", "amount": amount}
    response = api.post(
        "/api/webhook/payment/", body, format="json", HTTP_X_WEBHOOK_KEY=WEBHOOK_KEY, HTTP_X_TRACE_ID=f"big-{amount}"
    )

    assert response.status_code == 200 and response.json() == {"status": "success"}
    event = PaymentEvent.objects.get(trace_id=f"big-{amount}")
    assert (event.outcome, event.amount, event.order_id) == ("unmatched", None, None)
