"""Order registration with PayAction (CONTRACT.md section 6), against a fake PayAction API."""

from datetime import datetime

import pytest
from django.utils import timezone

from ordering.models import Order
from payments.models import PayActionRegistration
from payments.services import payaction_registrations_dispatch
from tests.fakes import Answer, FakeService
from tests.payments.support import MALL_ID, SAMPLES, direct_order, pre_order, wait_until

pytestmark = pytest.mark.django_db
API_KEY = "pa-api-key-test"
OK = Answer(200, body=SAMPLES["order_registration_request"]["success_response"])
ERROR = Answer(200, body={"status": "error", "response": {"message": "일시적인 오류"}})


@pytest.fixture
def payaction_api(settings):
    with FakeService(default=OK) as fake:
        settings.PAYACTION_API_KEY = API_KEY
        settings.PAYACTION_API_URL = fake.url
        yield fake


def _dispatch_until_done(order_id, timeout: float = 5.0):
    def step():
        payaction_registrations_dispatch()
        return PayActionRegistration.objects.get(order_id=order_id).done

    return wait_until(step, timeout=timeout, interval=0.02)


def test_a_pre_order_is_registered_off_the_request_path(api, table, pasta, payaction_api):
    response = pre_order(api, table, (pasta, 2), payer_name="홍길동")

    assert response.status_code == 201
    assert payaction_api.received() == []  # nothing sent while answering the customer
    assert payaction_registrations_dispatch() == 1
    assert payaction_registrations_dispatch() == 0

    [request] = payaction_api.received()
    order = Order.objects.get(pk=response.json()["order_id"])
    assert (request.method, request.path) == ("POST", "/order")
    headers = {key.lower(): value for key, value in request.headers.items()}
    assert headers["x-api-key"] == API_KEY
    assert headers["x-mall-id"] == MALL_ID
    assert headers["content-type"].startswith("application/json")
    body = request.json()
    assert body == {
        "order_number": order.order_number,
        "order_amount": 24000,
        "order_date": body["order_date"],
        "billing_name": "홍길동",
        "orderer_name": "홍길동",
    }
    assert body["order_date"].endswith("+09:00")
    assert datetime.fromisoformat(body["order_date"]) == order.order_date.replace(microsecond=0)
    assert PayActionRegistration.objects.get(order=order).done is True


def test_a_pre_order_paid_before_the_sender_runs_is_registered_all_the_same(
    api, staff_api, table, pasta, payaction_api
):
    response = pre_order(api, table, (pasta, 1), payer_name="홍길동")
    order_id = response.json()["order_id"]
    assert staff_api.post(f"/api/orders/{order_id}/confirm-payment/").status_code == 200

    assert payaction_registrations_dispatch() == 1

    [request] = payaction_api.received()
    assert request.json()["order_number"] == Order.objects.get(pk=order_id).order_number


def test_a_failing_payaction_never_fails_the_pre_order_and_is_retried_with_backoff(
    api, table, pasta, payaction_api, settings
):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0.1  # waits 0.2 s, then 0.4 s
    payaction_api.script(Answer(500), Answer(500))

    response = pre_order(api, table, (pasta, 1))

    assert response.status_code == 201
    order_id = response.json()["order_id"]
    assert payaction_registrations_dispatch() == 0
    assert payaction_registrations_dispatch() == 0  # backing off
    assert len(payaction_api.received()) == 1
    registration = PayActionRegistration.objects.get(order_id=order_id)
    assert (registration.done, registration.attempts) == (False, 1)
    assert registration.next_attempt_at > timezone.now()

    assert _dispatch_until_done(order_id)

    requests = payaction_api.received()
    assert len(requests) == 3
    assert requests[1].at - requests[0].at >= 0.2
    assert requests[2].at - requests[1].at >= 0.4
    assert requests[0].body == requests[2].body
    assert Order.objects.get(pk=order_id).status == "pre_order"


def test_an_error_answer_in_a_200_is_retried(api, table, pasta, payaction_api):
    payaction_api.script(ERROR)
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]

    assert payaction_registrations_dispatch() == 0
    assert PayActionRegistration.objects.get(order_id=order_id).done is False

    assert _dispatch_until_done(order_id)
    assert len(payaction_api.received()) == 2


def test_an_unreachable_payaction_is_retried(api, table, pasta, settings):
    with FakeService() as gone:
        url = gone.url
    settings.PAYACTION_API_KEY = API_KEY
    settings.PAYACTION_API_URL = url  # nothing listens there any more
    order_id = pre_order(api, table, (pasta, 1)).json()["order_id"]

    assert payaction_registrations_dispatch() == 0

    registration = PayActionRegistration.objects.get(order_id=order_id)
    assert (registration.done, registration.attempts) == (False, 1)


def test_nothing_is_registered_without_an_api_key(api, table, pasta, settings):
    with FakeService(default=OK) as fake:
        settings.PAYACTION_API_URL = fake.url
        pre_order(api, table, (pasta, 1))

        assert payaction_registrations_dispatch() == 0

        assert fake.received() == []
    assert PayActionRegistration.objects.count() == 0


def test_direct_orders_are_not_registered(api, table, pasta, payaction_api):
    direct_order(api, table, (pasta, 1))

    assert payaction_registrations_dispatch() == 0
    assert payaction_api.received() == []
