"""Security at the edges: rate limits, who may see table ids, CSRF, body size, secrets.

The kitchen socket refusing non-staff (close 4401 / 4403) is tested in
tests/ws/test_consumers.py::test_kitchen_socket_refuses_anonymous_4401_and_non_staff_4403.
"""

import json
import logging
import re
import secrets
import uuid

import pytest
import requests
from channels.testing import WebsocketCommunicator
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.asgi import application
from kitchen.models import StaffCall
from ordering.models import Order
from ordering.throttles import PublicWriteIpThrottle, PublicWriteTableThrottle, StaffCallThrottle
from payments.models import PaymentEvent
from tests.factories import FoodFactory, StaffFactory, TableFactory
from tests.robustness.conftest import SECRET, WEBHOOK_KEY, served_env
from tests.servers import Daphne

UUID_RE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE)


def uuids_in(text: str) -> set[str]:
    return {str(uuid.UUID(match)) for match in UUID_RE.findall(text)}


# --- rate limits ------------------------------------------------------------------------------------


@pytest.fixture
def throttled(settings, db):
    settings.THROTTLE_ENABLED = True
    cache.clear()
    yield
    cache.clear()


def limit(throttle_class) -> int:
    return throttle_class().num_requests


def client_from(ip: str) -> APIClient:
    return APIClient(REMOTE_ADDR=ip)


def assert_throttled(response, code: str) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["retry_after"], int) and body["retry_after"] >= 1
    assert int(response["Retry-After"]) >= 1


def order(client, table, food):
    body = {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}
    return client.post("/api/orders/", body, format="json")


def pre_order(client, table, food, payer: str):
    body = {"payer_name": payer, "total_amount": food.price, "items": [{"food_id": food.pk, "quantity": 1}]}
    return client.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")


def test_orders_are_limited_per_table(throttled):
    table, other, food = TableFactory(), TableFactory(), FoodFactory()
    phones = [client_from(f"10.0.0.{n}") for n in range(1, 5)]  # one table, several phones
    allowed = limit(PublicWriteTableThrottle)

    answers = [order(phones[n % 4], table, food).status_code for n in range(allowed)]
    refused = order(phones[0], table, food)

    assert answers == [201] * allowed
    assert_throttled(refused, "too_many_requests")
    assert Order.objects.filter(table=table).count() == allowed  # the refused order left no row
    assert order(phones[0], other, food).status_code == 201  # the limit is the table's, not the phone's


def test_pre_orders_are_limited_per_table(throttled):
    table, food = TableFactory(), FoodFactory(price=3000)
    phone = client_from("10.0.1.1")
    allowed = limit(PublicWriteTableThrottle)

    answers = [pre_order(phone, table, food, f"손님{n}").status_code for n in range(allowed)]
    refused = pre_order(phone, table, food, "한명더")

    assert answers == [201] * allowed
    assert_throttled(refused, "too_many_requests")
    assert not Order.objects.filter(payer_name="한명더").exists()


def test_staff_calls_are_limited_per_table(throttled):
    table, other = TableFactory(), TableFactory()
    phone = client_from("10.0.2.1")
    allowed = limit(StaffCallThrottle)

    answers = [phone.post(f"/api/tables/{table.pk}/call-staff/", {}, format="json").status_code for _ in range(allowed)]
    refused = phone.post(f"/api/tables/{table.pk}/call-staff/", {"message": "물 주세요"}, format="json")

    assert answers == [202] * allowed
    assert_throttled(refused, "too_many_calls")
    assert StaffCall.objects.filter(table=table).count() == allowed
    assert phone.post(f"/api/tables/{other.pk}/call-staff/", {}, format="json").status_code == 202


def test_public_writes_are_limited_per_ip_across_tables_and_endpoints(throttled):
    allowed = limit(PublicWriteIpThrottle)
    per_table = limit(PublicWriteTableThrottle) - 1
    tables = [TableFactory() for _ in range(allowed // per_table + 1)]
    food = FoodFactory(price=2000)
    phone, neighbour = client_from("10.0.3.1"), client_from("10.0.3.2")

    answers = []
    for n in range(allowed):
        table = tables[n // per_table]
        answer = order(phone, table, food) if n % 2 else pre_order(phone, table, food, f"ip{n}")
        answers.append(answer.status_code)
    fresh = TableFactory()

    assert answers == [201] * allowed
    assert_throttled(order(phone, fresh, food), "too_many_requests")
    assert_throttled(pre_order(phone, fresh, food, "ip-last"), "too_many_requests")
    assert_throttled(phone.post(f"/api/tables/{fresh.pk}/call-staff/", {}, format="json"), "too_many_calls")
    assert not Order.objects.filter(table=fresh).exists()
    assert order(neighbour, fresh, food).status_code == 201


def test_a_forged_x_forwarded_for_does_not_escape_the_ip_limit(throttled):
    """A client that sends a new X-Forwarded-For with every request is still one client (NUM_PROXIES)."""
    allowed = limit(PublicWriteIpThrottle)
    per_table = limit(PublicWriteTableThrottle) - 1
    tables = [TableFactory() for _ in range(allowed // per_table + 2)]
    food = FoodFactory()
    phone = client_from("10.0.4.1")

    answers = [
        phone.post(
            "/api/orders/",
            {"table_id": str(tables[n // per_table].pk), "items": [{"food_id": food.pk, "quantity": 1}]},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n % 250}",
        ).status_code
        for n in range(allowed + 1)
    ]

    assert answers[-1] == 429


# --- table ids ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_table_list_is_staff_only(api):
    TableFactory.create_batch(3)
    anonymous = api.get("/api/tables/")
    customer = APIClient()
    customer.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=StaffFactory(is_staff=False)).key}")
    not_staff = customer.get("/api/tables/")

    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_authenticated"
    assert not_staff.status_code == 403 and not_staff.json()["code"] == "permission_denied"
    assert not uuids_in(anonymous.content.decode()) and not uuids_in(not_staff.content.decode())
    for path in ("/api/orders/history/", "/api/kitchen/orders/", "/api/payments/"):
        assert api.get(path).status_code == 401
        assert customer.get(path).status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_no_public_answer_shows_another_tables_id(settings):
    from asgiref.sync import sync_to_async

    settings.PAYACTION_WEBHOOK_KEY = WEBHOOK_KEY

    @sync_to_async
    def setup_and_collect() -> tuple[str, set[str], list[str]]:
        mine, others = TableFactory(name="MINE"), [TableFactory(name=f"OTHER{n}") for n in range(3)]
        food, scarce = FoodFactory(price=5000), FoodFactory(price=9000, stock=1)
        other_ids = {str(t.pk) for t in others}
        phone = APIClient()
        # Other tables are busy: orders, a pending pre-order, a staff call, a paid deposit.
        order(phone, others[0], food)
        pre_order(phone, others[1], food, "김민수")
        phone.post(f"/api/tables/{others[2].pk}/call-staff/", {"message": "계산"}, format="json")
        pre_order(phone, others[2], food, "박지성")
        webhook = APIClient()
        webhook.credentials(HTTP_X_WEBHOOK_KEY=WEBHOOK_KEY)
        deposit = {"transaction_type": "deposited", "transaction_name": "박지성", "amount": 5000}
        webhook.post("/api/webhook/payment/", deposit, format="json")
        order(phone, others[0], scarce)

        bodies = []
        placed = order(phone, mine, food)
        bodies.append(placed.content.decode())
        created = pre_order(phone, mine, food, "이영희")
        bodies.append(created.content.decode())
        bodies += [
            phone.get(path).content.decode()
            for path in (
                "/api/foods/",
                f"/api/foods/{food.pk}/",
                f"/api/tables/{mine.pk}/",
                f"/api/tables/{mine.pk}/orders/",
                f"/api/orders/{created.json()['order_id']}/payment-status/",
                f"/api/orders/{placed.json()['id']}/payment-status/",
                "/healthz",
                "/api/schema/",
            )
        ]
        conflicts = [
            pre_order(phone, mine, food, "김민수"),  # same payer and amount as another table's pending one
            order(phone, mine, scarce),  # sold out by another table
            phone.post(f"/api/tables/{mine.pk}/call-staff/", {"message": "x" * 300}, format="json"),
            phone.post("/api/orders/", {"table_id": str(others[0].pk) + "x", "items": []}, format="json"),
        ]
        assert [r.status_code for r in conflicts] == [409, 409, 400, 400]
        bodies += [r.content.decode() for r in conflicts]
        bodies.append(webhook.post("/api/webhook/payment/", deposit, format="json").content.decode())
        page = Client().get(f"/t/{mine.pk}/")
        if page.status_code == 200:
            bodies.append(page.content.decode())
        return str(mine.pk), other_ids, bodies

    mine, other_ids, bodies = await setup_and_collect()

    communicator = WebsocketCommunicator(application, f"/ws/tables/{mine}/")
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    snapshot = await communicator.receive_from(timeout=5)
    await communicator.disconnect()
    bodies.append(snapshot)

    leaked = [(n, ids) for n, body in enumerate(bodies) if (ids := uuids_in(body) & other_ids)]
    assert leaked == []
    assert any(mine in body for body in bodies)  # the table's own id is there, so the scan works


# --- CSRF ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token():
    staff, food = StaffFactory(), FoodFactory(price=10000)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    path = f"/api/foods/{food.pk}/"

    forged = browser.patch(path, json.dumps({"price": 1}), content_type="application/json")

    assert forged.status_code == 403
    assert forged.json()["code"] == "csrf_failed"
    food.refresh_from_db()
    assert food.price == 10000

    csrf = secrets.token_hex(16)  # what the csrftoken cookie holds; the page echoes it in the header
    browser.cookies["csrftoken"] = csrf
    genuine = browser.patch(path, json.dumps({"price": 11000}), content_type="application/json", HTTP_X_CSRFTOKEN=csrf)

    assert genuine.status_code == 200, genuine.content
    food.refresh_from_db()
    assert food.price == 11000


@pytest.mark.django_db
def test_token_clients_need_no_csrf_token(staff_api, food):
    response = staff_api.patch(f"/api/foods/{food.pk}/", {"sold_out": True}, format="json")
    assert response.status_code == 200


# --- body size ----------------------------------------------------------------------------------------

BIG = 64 * 1024 + 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/orders/", "/api/orders/pre-order/{table}/", "/api/tables/{table}/call-staff/"])
def test_bodies_over_64_kib_are_refused_with_413(asgi_post, table, path):
    body = json.dumps({"table_id": str(table.pk), "items": [], "message": "가" * BIG}).encode()
    status, _, raw = asgi_post(path.format(table=table.pk), body)
    assert status == 413
    assert json.loads(raw)["code"] == "payload_too_large"
    assert not Order.objects.exists() and not StaffCall.objects.exists()


@pytest.mark.django_db(transaction=True)  # the served app's threads write it
def test_the_webhook_stores_a_delivery_past_64_kib_and_refuses_one_past_1_mib(asgi_post, settings):
    # A delivery is never lost for what is inside it (CONTRACT.md section 6): a deep one is larger.
    settings.PAYACTION_WEBHOOK_KEY = WEBHOOK_KEY
    key = [(b"x-webhook-key", WEBHOOK_KEY.encode())]
    deep = b'{"transaction_type": "deposited", "memo": ' + b"[" * 40_000 + b"]" * 40_000 + b"}"

    status, _, raw = asgi_post("/api/webhook/payment/", deep, key)
    assert (status, json.loads(raw)) == (200, {"status": "success"})
    assert PaymentEvent.objects.get().raw == {"unparsed": deep.decode()}

    status, _, raw = asgi_post("/api/webhook/payment/", b'{"memo": "' + b"x" * (1024 * 1024) + b'"}', key)
    assert status == 413 and json.loads(raw)["code"] == "payload_too_large"
    assert PaymentEvent.objects.count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_served_app_refuses_big_bodies_with_or_without_content_length():
    table, food = TableFactory(), FoodFactory()
    big = json.dumps({"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}], "pad": "x" * BIG})

    def chunks():  # no Content-Length: Transfer-Encoding: chunked
        data = big.encode()
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]

    with Daphne(env=served_env(REDIS_URL="")) as server:
        sized = requests.post(f"{server.url}/api/orders/", data=big, headers={"Content-Type": "application/json"})
        chunked = requests.post(
            f"{server.url}/api/orders/", data=chunks(), headers={"Content-Type": "application/json"}, timeout=10
        )

    assert sized.status_code == 413 and sized.json()["code"] == "payload_too_large"
    assert chunked.status_code == 413, chunked.text[:300]
    assert not Order.objects.exists()


# --- secrets ------------------------------------------------------------------------------------------

API_KEY = "robust-payaction-api-key-6d0f2a"
MALL_ID = "robust-mall-7731"
PASSWORD = "robust-staff-password-99x"


def failing_requests(send) -> list:
    """Requests that fail on purpose, each carrying a secret or a guess at one."""
    wrong_key = "wrong-webhook-key-" + secrets.token_hex(4)
    deposit = {"transaction_type": "deposited", "transaction_name": "홍길동", "amount": 1000}
    return [
        send("post", "/api/webhook/payment/", deposit, {"x-webhook-key": wrong_key, "x-mall-id": MALL_ID}),
        send("post", "/api/webhook/payment/", deposit, {"x-webhook-key": WEBHOOK_KEY, "x-mall-id": "other-mall"}),
        send("post", "/api/webhook/payment/", "{not json", {"x-webhook-key": WEBHOOK_KEY, "x-mall-id": MALL_ID}),
        send("post", "/api/auth/token/", {"username": "robust-staff", "password": PASSWORD + "x"}, {}),
        send("get", "/api/tables/", None, {"Authorization": f"Token {wrong_key}"}),
        send("get", "/api/tables/", None, {"Authorization": f"Bearer {WEBHOOK_KEY}"}),
    ], wrong_key


@pytest.mark.django_db
def test_no_secret_in_error_bodies_or_log_lines(settings, caplog, monkeypatch):
    settings.SECRET_KEY = SECRET
    settings.PAYACTION_WEBHOOK_KEY = WEBHOOK_KEY
    settings.PAYACTION_API_KEY = API_KEY
    settings.PAYACTION_MALL_ID = MALL_ID
    StaffFactory(username="robust-staff", password=PASSWORD)
    client = APIClient(raise_request_exception=False)

    def send(method, path, body, headers):
        extra = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
        if isinstance(body, str):
            return getattr(client, method)(path, body, content_type="application/json", **extra)
        return getattr(client, method)(path, body, format="json", **extra)

    with caplog.at_level(logging.DEBUG):
        responses, wrong_key = failing_requests(send)

        def boom(**kwargs):
            raise RuntimeError("menu exploded")

        monkeypatch.setattr("ordering.apis.menu_current", boom)
        crashed = client.get("/api/foods/")

    assert [r.status_code for r in responses] == [401, 401, 400, 400, 401, 401]
    assert responses[0].json() == {
        "status": "error",
        "code": "invalid_webhook_key",
        "detail": responses[0].json()["detail"],
    }
    assert crashed.status_code == 500 and crashed.json()["code"] == "server_error"
    assert "menu exploded" not in crashed.content.decode() and "Traceback" not in crashed.content.decode()
    assert any(record.exc_info for record in caplog.records), "the crash should be logged with its traceback"

    secrets_ = [SECRET, WEBHOOK_KEY, API_KEY, PASSWORD, wrong_key]
    answers = "\n".join(r.content.decode() + json.dumps(dict(r.headers)) for r in [*responses, crashed])
    logged = "\n".join(f"{record.getMessage()} {record.__dict__!r} {caplog.text}" for record in caplog.records)
    assert [s for s in secrets_ if s in answers] == []
    assert [s for s in secrets_ if s in logged] == []


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_no_secret_in_a_served_process_log():
    StaffFactory(username="robust-staff", password=PASSWORD)
    env = served_env(
        REDIS_URL="",
        PAYACTION_WEBHOOK_KEY=WEBHOOK_KEY,
        PAYACTION_API_KEY=API_KEY,
        PAYACTION_MALL_ID=MALL_ID,
        LOG_LEVEL="DEBUG",
        LOG_FORMAT="json",
    )
    with Daphne(env=env) as server:

        def send(method, path, body, headers):
            data = body if isinstance(body, str) else json.dumps(body) if body is not None else None
            headers = {"Content-Type": "application/json", **headers}
            return requests.request(method, server.url + path, data=data, headers=headers, timeout=10)

        responses, wrong_key = failing_requests(send)
        log = server.log_path.read_text(errors="replace")

    assert [r.status_code for r in responses] == [401, 401, 400, 400, 401, 401]
    secrets_ = [SECRET, WEBHOOK_KEY, API_KEY, PASSWORD, wrong_key]
    assert [s for s in secrets_ if s in log] == []
    assert [s for s in secrets_ if any(s in r.text for r in responses)] == []
