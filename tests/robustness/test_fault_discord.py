"""Discord answers 500, 429 (with retry_after) and times out for a while; every alert still arrives once."""

import time

import pytest
import requests

from ordering.models import Order
from ordering.services import order_place
from tests.factories import FoodFactory, TableFactory
from tests.fakes import Answer
from tests.robustness.conftest import alert_order_number, delivered_alerts, order_body, report, served_env
from tests.servers import Daphne

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMEOUT = 0.5  # OUTSIDE_HTTP_TIMEOUT and OUTSIDE_HTTP_READ_TIMEOUT of the served app
ORDERS = 8


def test_every_alert_arrives_exactly_once_after_500s_429s_and_timeouts(fake_discord):
    hang = Answer(status=504, delay=TIMEOUT * 3)  # answered long after the app gave up: not delivered
    fake_discord.script(
        Answer(status=500),
        Answer(status=429, body={"message": "You are being rate limited.", "retry_after": 1.5, "global": False}),
        hang,
        Answer(status=500),
        Answer(status=502),
        hang,
        Answer(status=429, body={"message": "You are being rate limited.", "retry_after": 0.8, "global": False}),
        Answer(status=500),
        hang,
        Answer(status=503),
    )
    table, food = TableFactory(name="D1"), FoodFactory(price=6000)
    env = served_env(
        DISCORD_WEBHOOK_URL=fake_discord.url,
        BACKGROUND_JOBS=1,
        BACKGROUND_JOBS_INTERVAL=0.2,
        OUTSIDE_HTTP_TIMEOUT=TIMEOUT,
        OUTSIDE_HTTP_READ_TIMEOUT=TIMEOUT,
    )
    with Daphne(env=env) as server:
        started = time.monotonic()
        answers = [
            requests.post(f"{server.url}/api/orders/", json=order_body(table.pk, food.pk), timeout=10)
            for _ in range(ORDERS)
        ]
        assert [a.status_code for a in answers] == [201] * ORDERS
        numbers = sorted(a.json()["order_number"] for a in answers)

        deadline = time.monotonic() + 60
        while len(fake_discord.successes()) < ORDERS and time.monotonic() < deadline:
            time.sleep(0.2)
        all_sent_s = time.monotonic() - started
        time.sleep(2.0)  # a double would arrive now

    assert sorted(delivered_alerts(fake_discord)) == numbers
    assert len(fake_discord.successes()) == ORDERS
    assert Order.objects.filter(table=table, discord_notified=True).count() == ORDERS

    # Every failure was retried, and a 429's retry_after was honoured for the alert it refused.
    answered = fake_discord.answered()
    failures = [(r, a) for r, a in answered if not 200 <= a.status < 300]
    assert len(failures) == 10
    for recorded, answer in failures:
        number = alert_order_number(recorded)
        later = [r.at for r, _ in answered if r.at > recorded.at and alert_order_number(r) == number]
        assert later, f"{number} was never retried after {answer.status}"
        if answer.status == 429:
            waited = min(later) - recorded.at
            assert waited >= answer.body["retry_after"] - 0.05, f"retried {waited:.2f}s after a 429"

    # The webhook's bucket: after a 429, nothing more reaches Discord before retry_after has passed.
    early = []
    for recorded, answer in failures:
        if answer.status == 429:
            until = recorded.at + answer.body["retry_after"] - 0.05
            early += [r for r, _ in answered if recorded.at < r.at < until]
    report(
        "discord",
        orders=ORDERS,
        failures_scripted=len(failures),
        requests=len(answered),
        delivered=len(fake_discord.successes()),
        distinct_delivered=len(set(delivered_alerts(fake_discord))),
        all_delivered_after_s=round(all_sent_s, 2),
        sent_inside_429_window=len(early),
    )


def test_a_429_holds_back_every_pending_alert_until_retry_after(fake_discord):
    """Discord limits the whole webhook: after a 429 no pending alert is sent before retry_after."""
    retry_after = 2.0
    fake_discord.script(Answer(status=429, body={"message": "rate limited", "retry_after": retry_after}))
    table, food = TableFactory(name="D2"), FoodFactory()
    for _ in range(4):  # all pending before the served process's first try
        order_place(table_id=table.pk, quantities={food.pk: 1})
    env = served_env(DISCORD_WEBHOOK_URL=fake_discord.url, BACKGROUND_JOBS=1, BACKGROUND_JOBS_INTERVAL=0.2)
    with Daphne(env=env):
        fake_discord.wait_for(5, timeout=15)

    answered = fake_discord.answered()
    assert [a.status for _, a in answered] == [429, 204, 204, 204, 204]
    limited_at = answered[0][0].at
    assert min(r.at for r, _ in answered[1:]) >= limited_at + retry_after - 0.05


def test_a_429_also_holds_back_alerts_of_orders_completed_during_the_wait(fake_discord):
    retry_after = 5.0  # long enough that even a slow machine posts the second order inside it
    fake_discord.script(Answer(status=429, body={"message": "rate limited", "retry_after": retry_after}))
    table, food = TableFactory(name="D3"), FoodFactory()
    order_place(table_id=table.pk, quantities={food.pk: 1})
    env = served_env(DISCORD_WEBHOOK_URL=fake_discord.url, BACKGROUND_JOBS=1, BACKGROUND_JOBS_INTERVAL=0.2)
    with Daphne(env=env) as server:
        fake_discord.wait_for(1, timeout=15)
        assert requests.post(f"{server.url}/api/orders/", json=order_body(table.pk, food.pk), timeout=10).ok
        fake_discord.wait_for(3, timeout=15)

    answered = fake_discord.answered()
    limited_at = answered[0][0].at
    assert min(r.at for r, _ in answered[1:]) >= limited_at + retry_after - 0.05
