"""The database goes away (a private MariaDB, crashed with SIGKILL) and comes back.

While it is away: /healthz says so (503, "database": "error"); an order gets the contract's 503 JSON
quickly, never an HTML page or a hang; a PayAction delivery gets a 5xx so that PayAction retries it.
After it returns, the same requests succeed, and nothing is lost or done twice.
"""

import json
import time
import uuid

import pytest
import requests

from tests.robustness.conftest import WEBHOOK_KEY, delivered_alerts, manage, report, served_env
from tests.servers import Daphne

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST = 5.0  # seconds: an answer during the outage must come at least this fast

SEED = """
import json
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from ordering.models import Food, Table
table = Table.objects.create(name="F1")
food = Food.objects.create(name="파전", price=9000, stock=20)
staff = get_user_model().objects.create_user("fault-staff", password="pw-fault-1234", is_staff=True)
print(json.dumps({"table": str(table.pk), "food": food.pk, "token": Token.objects.create(user=staff).key}))
"""


def timed(method: str, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.request(method, url, timeout=FAST + 5, **kwargs)
    return response, time.monotonic() - started


def assert_contract_error(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("code"), str) and isinstance(body.get("detail"), str)
    assert "<html" not in response.text.lower() and "Traceback" not in response.text
    return body


def test_database_outage_answers_503_fast_and_loses_or_doubles_nothing(private_mariadb, fake_discord):
    private_mariadb.query("CREATE DATABASE pub_fault CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    env = served_env(
        DATABASE_URL=private_mariadb.url("pub_fault"),
        REDIS_URL="",
        PAYACTION_WEBHOOK_KEY=WEBHOOK_KEY,
        DISCORD_WEBHOOK_URL=fake_discord.url,
        BACKGROUND_JOBS=1,
        BACKGROUND_JOBS_INTERVAL=0.2,
        OUTSIDE_HTTP_TIMEOUT=2,
        OUTSIDE_HTTP_READ_TIMEOUT=2,
    )
    manage("migrate", "--noinput", env=env)
    seed = json.loads(manage("shell", "-c", SEED, env=env).strip().splitlines()[-1])
    staff = {"Authorization": f"Token {seed['token']}"}
    order = {"table_id": seed["table"], "items": [{"food_id": seed["food"], "quantity": 2}]}
    pre_order = {"payer_name": "장애시험", "total_amount": 9000, "items": [{"food_id": seed["food"], "quantity": 1}]}
    deposit = {
        "transaction_type": "deposited",
        "transaction_name": "장애시험",
        "amount": 9000,
        "transaction_date": "2026-05-01 21:00:00",
    }
    webhook_headers = {"x-webhook-key": WEBHOOK_KEY, "x-trace-id": f"fault-{uuid.uuid4().hex}"}

    with Daphne(env=env) as server:
        first = requests.post(f"{server.url}/api/orders/", json=order, timeout=10)
        assert first.status_code == 201, first.text
        pending = requests.post(f"{server.url}/api/orders/pre-order/{seed['table']}/", json=pre_order, timeout=10)
        assert pending.status_code == 201, pending.text

        private_mariadb.stop(kill=True)

        health, health_s = timed("get", f"{server.url}/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "error", "database": "error", "channel_layer": "ok"}
        refused, refused_s = timed("post", f"{server.url}/api/orders/", json=order)
        assert_contract_error(refused, 503)
        assert refused.headers.get("Retry-After")
        delivery, delivery_s = timed(
            "post", f"{server.url}/api/webhook/payment/", json=deposit, headers=webhook_headers
        )
        assert 500 <= delivery.status_code < 600, delivery.text  # PayAction retries a 5xx
        assert_contract_error(delivery, delivery.status_code)
        tab, tab_s = timed("get", f"{server.url}/api/tables/{seed['table']}/orders/")
        assert_contract_error(tab, 503)
        slowest = max(health_s, refused_s, delivery_s, tab_s)
        assert slowest < FAST, f"an answer took {slowest:.2f}s while the database was away"

        down_at = time.monotonic()
        private_mariadb.start()
        deadline = time.monotonic() + 30
        while requests.get(f"{server.url}/healthz", timeout=FAST).status_code != 200:
            assert time.monotonic() < deadline, "the app never saw the database come back"
            time.sleep(0.2)
        recovered_s = time.monotonic() - down_at

        again = requests.post(f"{server.url}/api/orders/", json=order, timeout=10)
        assert again.status_code == 201, again.text
        replays = [
            requests.post(f"{server.url}/api/webhook/payment/", json=deposit, headers=webhook_headers, timeout=10)
            for _ in range(3)
        ]
        assert [r.status_code for r in replays] == [200, 200, 200]
        assert all(r.json() == {"status": "success"} for r in replays)

        status = requests.get(f"{server.url}/api/orders/{pending.json()['order_id']}/payment-status/", timeout=5)
        assert status.json()["order_status"] == "completed"
        tab = requests.get(f"{server.url}/api/tables/{seed['table']}/orders/", timeout=5).json()
        events = requests.get(f"{server.url}/api/payments/", headers=staff, timeout=5).json()
        food = requests.get(f"{server.url}/api/foods/{seed['food']}/", timeout=5).json()

        expected = {first.json()["order_number"], pending.json()["order_number"], again.json()["order_number"]}
        deadline = time.monotonic() + 30
        while len(delivered_alerts(fake_discord)) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # a double would arrive now

    # Exactly the three answered orders, the pre-order paid once, stock taken once for each.
    assert sorted(o["order_number"] for o in tab["orders"]) == sorted(expected)
    assert all(o["status"] == "completed" for o in tab["orders"])
    assert food["stock"] == 20 - 2 - 1 - 2
    delivered_events = [e for e in events if e["trace_id"] == webhook_headers["x-trace-id"]]
    assert [(e["kind"], e["outcome"]) for e in delivered_events] == [("deposit", "matched")]
    assert sorted(delivered_alerts(fake_discord)) == sorted(expected)

    report(
        "database",
        answer_during_outage_max_s=round(slowest, 3),
        healthz_s=round(health_s, 3),
        order_503_s=round(refused_s, 3),
        webhook_5xx_s=round(delivery_s, 3),
        webhook_status=delivery.status_code,
        recovered_after_restart_s=round(recovered_s, 2),
        orders=len(expected),
        alerts=len(delivered_alerts(fake_discord)),
    )


def test_a_hung_database_still_gets_a_fast_503_and_service_resumes(private_mariadb):
    """SIGSTOP: connections open at the TCP level but nothing answers; no request may hang on it."""
    private_mariadb.query("CREATE DATABASE pub_hang CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    # Short waits for the test; the defaults (3 s connect, 10 s read) bound a hang at about 13 s.
    env = served_env(
        DATABASE_URL=private_mariadb.url("pub_hang"), REDIS_URL="", DB_CONNECT_TIMEOUT=2, DB_READ_TIMEOUT=2
    )
    manage("migrate", "--noinput", env=env)
    seed = json.loads(manage("shell", "-c", SEED, env=env).strip().splitlines()[-1])
    order = {"table_id": seed["table"], "items": [{"food_id": seed["food"], "quantity": 1}]}

    with Daphne(env=env) as server:
        assert requests.post(f"{server.url}/api/orders/", json=order, timeout=10).status_code == 201

        private_mariadb.freeze()
        try:
            health, health_s = timed("get", f"{server.url}/healthz")
            refused, refused_s = timed("post", f"{server.url}/api/orders/", json=order)
        finally:
            private_mariadb.thaw()
        assert health.status_code == 503 and health.json()["database"] == "error"
        assert_contract_error(refused, 503)
        assert max(health_s, refused_s) < FAST + 1, (health_s, refused_s)

        deadline = time.monotonic() + 30
        while requests.get(f"{server.url}/healthz", timeout=FAST + 5).status_code != 200:
            assert time.monotonic() < deadline, "the app never saw the database answer again"
            time.sleep(0.2)
        again = requests.post(f"{server.url}/api/orders/", json=order, timeout=10)
        assert again.status_code == 201, again.text
        tab = requests.get(f"{server.url}/api/tables/{seed['table']}/orders/", timeout=5).json()
    assert len(tab["orders"]) == 2  # the refused order was not half-saved
    report("database_hung", healthz_s=round(health_s, 2), order_503_s=round(refused_s, 2))
