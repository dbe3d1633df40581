"""Races on the real database with real threads (MariaDB in CI): deposits, replays, outbox claims."""

import threading
import uuid

import pytest
from django.db import connection
from django.test import Client

from kitchen.services import discord_alerts_dispatch
from ordering.models import Order
from payments.models import PayActionRegistration, PaymentEvent
from payments.services import payaction_registrations_dispatch, pre_orders_expire
from tests.factories import FoodFactory, TableFactory
from tests.fakes import Answer, FakeService
from tests.payments.support import ON_MARIADB, deliver, deposit_body, direct_order, pre_order

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(
        not ON_MARIADB,
        reason="races need MariaDB row locks (CI runs them there); the in-memory SQLite test database "
        "serialises every writer, so a race could not fail",
    ),
    pytest.mark.django_db(transaction=True),
]
THREADS = 6


def race(work, n: int = THREADS) -> list:
    """Run work(i) in n threads released together; each thread closes its own connection."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def run(index):
        try:
            barrier.wait(timeout=20)
            results[index] = work(index)
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    assert errors == []
    return results


@pytest.fixture
def pending(api):
    table, food = TableFactory(), FoodFactory(price=15000, stock=10)
    response = pre_order(api, table, (food, 1), payer_name="홍길동")
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["order_id"]), food


def _alerts_once(discord):
    """Dispatchers racing in every thread send the alert of each completed order once."""
    race(lambda i: discord_alerts_dispatch())
    return discord.received()


def test_racing_deposits_complete_the_pre_order_once(pending, discord):
    order, food = pending
    body = deposit_body("홍길동", 15000)

    statuses = race(lambda i: deliver(Client(), body, trace_id=f"deposit-{i}-{uuid.uuid4()}").status_code)

    assert statuses == [200] * THREADS
    order.refresh_from_db()
    assert order.status == "completed" and order.paid_at is not None
    outcomes = sorted(PaymentEvent.objects.values_list("outcome", flat=True))
    assert outcomes == ["matched"] + ["unmatched"] * (THREADS - 1)
    assert PaymentEvent.objects.get(outcome="matched").order_id == order.pk
    food.refresh_from_db()
    assert food.stock == 9
    requests = _alerts_once(discord)
    assert len(requests) == 1
    assert requests[0].json()["embeds"][0]["fields"][0]["value"] == order.order_number


def test_racing_replays_of_one_delivery_are_processed_once(pending, discord):
    order, food = pending
    body = deposit_body("홍길동", 15000)

    statuses = race(lambda i: deliver(Client(), body, trace_id="one-delivery").status_code)

    assert statuses == [200] * THREADS
    event = PaymentEvent.objects.get()
    assert (event.trace_id, event.outcome, event.order_id) == ("one-delivery", "matched", order.pk)
    order.refresh_from_db()
    assert order.status == "completed"
    food.refresh_from_db()
    assert food.stock == 9
    assert len(_alerts_once(discord)) == 1


def test_racing_pre_orders_with_one_payer_name_and_amount_leave_one_pending(api):
    table = TableFactory()
    foods = [FoodFactory(price=7000, stock=5) for _ in range(THREADS)]  # no shared row lock between them

    def place(i):
        body = {"payer_name": "같은이름", "total_amount": 7000, "items": [{"food_id": foods[i].pk, "quantity": 1}]}
        response = Client().post(f"/api/orders/pre-order/{table.pk}/", body, content_type="application/json")
        return response.status_code, response.json().get("code")

    results = race(place)

    assert sorted(results, key=str) == sorted([(201, None)] + [(409, "payer_name_in_use")] * (THREADS - 1), key=str)
    assert Order.objects.filter(status="pre_order").count() == 1
    for food in foods:
        food.refresh_from_db()
    assert sum(food.stock for food in foods) == 5 * THREADS - 1  # only the winner took stock


def test_expiry_racing_deposits_takes_the_stock_once(pending):
    order, food = pending
    Order.objects.filter(pk=order.pk).update(expires_at=order.order_date)  # due for expiry
    body = deposit_body("홍길동", 15000)

    def work(i):
        if i % 2:
            return pre_orders_expire()
        return deliver(Client(), body, trace_id=f"late-{i}").status_code

    results = race(work)

    assert [results[i] for i in range(0, THREADS, 2)] == [200] * (THREADS // 2)
    order.refresh_from_db()
    assert order.status == "completed"  # paid in time, or expired and revived by the deposit
    assert PaymentEvent.objects.filter(outcome="matched").count() == 1
    food.refresh_from_db()
    assert food.stock == 9


def test_racing_dispatchers_send_each_alert_once(api, discord):
    table, food = TableFactory(), FoodFactory(price=1000)
    numbers = {direct_order(api, table, (food, n + 1)).json()["order_number"] for n in range(8)}
    discord.default = Answer(204, delay=0.05)  # slow enough for the claims to overlap

    delivered = race(lambda i: discord_alerts_dispatch())

    assert sum(delivered) == 8
    sent = [r.json()["embeds"][0]["fields"][0]["value"] for r in discord.received()]
    assert sorted(sent) == sorted(numbers)


def test_racing_dispatchers_register_each_pre_order_once(api, settings):
    table = TableFactory()
    foods = [FoodFactory(price=1000 * (n + 1)) for n in range(4)]
    with FakeService(default=Answer(200, body={"status": "success", "response": {}}, delay=0.05)) as fake:
        settings.PAYACTION_API_KEY = "pa-key"
        settings.PAYACTION_API_URL = fake.url
        numbers = {pre_order(api, table, (food, 1)).json()["order_number"] for food in foods}

        delivered = race(lambda i: payaction_registrations_dispatch())

        assert sum(delivered) == 4
        assert sorted(r.json()["order_number"] for r in fake.received()) == sorted(numbers)
    assert PayActionRegistration.objects.filter(done=True).count() == 4
