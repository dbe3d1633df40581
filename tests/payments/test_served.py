"""The served app does its periodic work by itself: expiry, Discord alerts, PayAction registration.

Real daphne processes share a database with the test: the test database on MariaDB, a migrated file on
SQLite (whose test database lives in memory). Nothing here calls a job; the servers run them.
"""

import json
import time
import uuid

import pytest
import requests

from tests.fakes import Answer, FakeService
from tests.payments.support import (
    ServedDatabase,
    deposit_body,
    served_database,
    server_env,
    wait_until,
)
from tests.servers import Daphne

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SETUP = """
import json
from ordering.models import Food, Table
table = Table.objects.create(name="served-{suffix}")
foods = [Food.objects.create(name=f"served-{{n}}", price=9000 + 1000 * n, stock={stock}) for n in range(3)]
print(json.dumps({{"table": str(table.pk), "foods": [f.pk for f in foods]}}))
"""


@pytest.fixture
def shared_db(request, served_template, tmp_path) -> ServedDatabase:
    if served_template is None:  # MariaDB: the servers use the test database, so the test must commit
        request.getfixturevalue("transactional_db")
    return served_database(served_template, tmp_path)


def _setup(db: ServedDatabase, stock: int = 50) -> dict:
    return db.run(SETUP.format(suffix=uuid.uuid4().hex[:6], stock=stock))


def _order(server, table_id, food_id, quantity=1) -> dict:
    response = requests.post(
        f"{server.url}/api/orders/",
        json={"table_id": table_id, "items": [{"food_id": food_id, "quantity": quantity}]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _numbers(fake: FakeService) -> list[str]:
    return sorted(r.json()["embeds"][0]["fields"][0]["value"] for r in fake.received())


def test_a_served_process_expires_pre_orders_by_itself(shared_db):
    ids = _setup(shared_db, stock=2)
    food_id = ids["foods"][0]
    env = server_env(shared_db, PRE_ORDER_TTL_MINUTES=0, BACKGROUND_JOBS_INTERVAL=0.2)

    with Daphne(env=env) as server:
        created = requests.post(
            f"{server.url}/api/orders/pre-order/{ids['table']}/",
            json={"payer_name": "안냄", "total_amount": 18000, "items": [{"food_id": food_id, "quantity": 2}]},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        status_url = f"{server.url}/api/orders/{created.json()['order_id']}/payment-status/"

        cancelled = wait_until(
            lambda: requests.get(status_url, timeout=5).json()["order_status"] == "cancelled", timeout=15
        )
        food = requests.get(f"{server.url}/api/foods/{food_id}/", timeout=5).json()

    assert cancelled, server.log()
    assert (food["stock"], food["sold_out"]) == (2, False)


def test_two_processes_send_each_alert_exactly_once(shared_db):
    ids = _setup(shared_db)
    with FakeService(default=Answer(204, delay=0.03)) as discord:
        env = server_env(
            shared_db, DISCORD_WEBHOOK_URL=f"{discord.url}/hook", BACKGROUND_JOBS_INTERVAL=0.05, OUTSIDE_HTTP_TIMEOUT=5
        )
        with Daphne(env=env) as first, Daphne(env=env) as second:
            servers = [first, second]
            numbers = [
                _order(servers[n % 2], ids["table"], ids["foods"][n % 3], n % 5 + 1)["order_number"] for n in range(10)
            ]
            for n, name in enumerate(["가입금", "나입금"]):
                pre = requests.post(
                    f"{first.url}/api/orders/pre-order/{ids['table']}/",
                    json={
                        "payer_name": name,
                        "total_amount": 9000,
                        "items": [{"food_id": ids["foods"][0], "quantity": 1}],
                    },
                    timeout=10,
                ).json()
                numbers.append(pre["order_number"])
                paid = requests.post(
                    f"{servers[n].url}/api/webhook/payment/",
                    data=json.dumps(deposit_body(name, 9000), ensure_ascii=False).encode(),
                    headers={
                        "content-type": "application/json",
                        "x-webhook-key": env["PAYACTION_WEBHOOK_KEY"],
                        "x-mall-id": env["PAYACTION_MALL_ID"],
                        "x-trace-id": str(uuid.uuid4()),
                    },
                    timeout=10,
                )
                assert paid.status_code == 200, paid.text

            assert wait_until(lambda: len(discord.received()) >= len(numbers), timeout=30), first.log()
            time.sleep(1.5)  # both keep dispatching: a duplicate would show up now

    assert _numbers(discord) == sorted(numbers)
    assert all(r.json()["username"] == "주문알리미" for r in discord.received())


def test_alerts_pending_when_a_server_stops_are_sent_after_a_new_one_starts(shared_db):
    ids = _setup(shared_db)
    with FakeService(default=Answer(500)) as broken, FakeService() as discord:
        before = server_env(
            shared_db,
            DISCORD_WEBHOOK_URL=f"{broken.url}/hook",
            OUTBOX_BACKOFF_BASE_SECONDS=0.05,
            OUTBOX_LEASE_SECONDS=2,
        )
        with Daphne(env=before) as server:
            numbers = sorted(_order(server, ids["table"], food)["order_number"] for food in ids["foods"])
            tried = wait_until(
                lambda: {r.json()["embeds"][0]["fields"][0]["value"] for r in broken.received()} >= set(numbers)
            )
            assert tried, server.log()  # every alert was attempted (and failed) before the stop

        after = server_env(shared_db, DISCORD_WEBHOOK_URL=f"{discord.url}/hook", BACKGROUND_JOBS_INTERVAL=0.1)
        with Daphne(env=after, quiet=True) as restarted:  # no request is sent to it: the jobs start with the server
            sent = wait_until(lambda: len(discord.received()) >= len(numbers), timeout=20)
            time.sleep(1.0)
            log = restarted.log()

    assert sent, log
    assert _numbers(discord) == numbers


def test_a_served_process_registers_pre_orders_with_payaction_and_retries(shared_db):
    ids = _setup(shared_db)
    ok = Answer(200, body={"status": "success", "response": {}})
    with FakeService(default=ok) as payaction:
        payaction.script(Answer(500))
        env = server_env(
            shared_db,
            PAYACTION_API_KEY="pa-key",
            PAYACTION_API_URL=payaction.url,
            OUTBOX_BACKOFF_BASE_SECONDS=0.05,
            BACKGROUND_JOBS_INTERVAL=0.1,
        )
        with Daphne(env=env) as server:
            created = requests.post(
                f"{server.url}/api/orders/pre-order/{ids['table']}/",
                json={
                    "payer_name": "등록",
                    "total_amount": 9000,
                    "items": [{"food_id": ids["foods"][0], "quantity": 1}],
                },
                timeout=10,
            )
            assert created.status_code == 201, created.text
            assert wait_until(lambda: len(payaction.received()) >= 2, timeout=15), server.log()
            time.sleep(0.5)

    bodies = [r.json() for r in payaction.received()]
    assert len(bodies) == 2  # the 500, then the registration that succeeded; none after it
    assert bodies[0] == bodies[1]
    assert bodies[1]["order_number"] == created.json()["order_number"]
    assert bodies[1]["order_amount"] == 9000 and bodies[1]["billing_name"] == "등록"
