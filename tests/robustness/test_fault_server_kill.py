"""The served process is killed (SIGKILL) in the middle of a burst of orders, then started again.

Every order that was answered 201 is stored; orders whose answer was lost may be stored too (the
client retries with a new request); alerts that were pending at the kill are sent after the restart,
once each. Discord is down during the burst so that alerts are pending when the process dies.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from ordering.models import Order, OrderStatus
from tests.factories import FoodFactory, TableFactory
from tests.fakes import Answer
from tests.robustness.conftest import delivered_alerts, order_body, report, served_env
from tests.servers import Daphne

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BURST = 60
KILL_AFTER = 20  # answered orders before the kill


def test_killed_server_keeps_every_answered_order_and_sends_pending_alerts_once(fake_discord):
    fake_discord.default = Answer(status=503)  # Discord away: alerts pile up in the outbox
    table, food = TableFactory(name="K1"), FoodFactory(price=4000, stock=1000)
    env = served_env(
        DISCORD_WEBHOOK_URL=fake_discord.url,
        BACKGROUND_JOBS=1,
        BACKGROUND_JOBS_INTERVAL=0.2,
        OUTSIDE_HTTP_TIMEOUT=1,
        OUTSIDE_HTTP_READ_TIMEOUT=1,
    )
    server = Daphne(env=env).start()
    answered: list[dict] = []
    lost = 0
    lock = threading.Lock()
    enough = threading.Event()

    def place(_):
        nonlocal lost
        try:
            response = requests.post(f"{server.url}/api/orders/", json=order_body(table.pk, food.pk), timeout=10)
        except requests.RequestException:
            with lock:
                lost += 1
            return
        with lock:
            if response.status_code == 201:
                answered.append(response.json())
            if len(answered) >= KILL_AFTER:
                enough.set()

    try:
        with ThreadPoolExecutor(6) as pool:
            burst = pool.map(place, range(BURST))
            assert enough.wait(30), "the burst never got going"
            server.stop(kill=True)
            list(burst)
        killed_with = len(answered)
        assert killed_with < BURST, "the burst ended before the kill: nothing was cut"

        fake_discord.default = Answer(status=204)  # Discord is back
        restarted_at = time.monotonic()
        server = Daphne(env=env, port=server.port).start()
        after = [
            requests.post(f"{server.url}/api/orders/", json=order_body(table.pk, food.pk), timeout=10) for _ in range(5)
        ]
        assert [a.status_code for a in after] == [201] * 5
        answered += [a.json() for a in after]

        # A row claimed by the killed process waits for its lease (30 s) to run out, then is sent.
        stored = Order.objects.filter(table=table, status=OrderStatus.COMPLETED)
        deadline = time.monotonic() + 60
        while len(delivered_alerts(fake_discord)) < stored.count() and time.monotonic() < deadline:
            time.sleep(0.3)
        all_sent_s = time.monotonic() - restarted_at
        time.sleep(2.0)  # a double would arrive now
    finally:
        server.stop()

    stored_numbers = set(stored.values_list("order_number", flat=True))
    assert {o["order_number"] for o in answered} <= stored_numbers  # no answered order lost
    assert len(stored_numbers) <= BURST + 5  # and nothing stored that nobody sent
    food.refresh_from_db()
    assert food.stock == 1000 - len(stored_numbers)  # stock and orders agree: no half-written order

    alerts = delivered_alerts(fake_discord)
    assert len(alerts) == len(set(alerts)), "an alert was sent twice"
    assert set(alerts) == stored_numbers
    report(
        "server_kill",
        burst=BURST,
        answered_before_kill=killed_with,
        requests_cut_by_kill=lost,
        stored=len(stored_numbers),
        stored_but_unanswered=len(stored_numbers) - len(answered),
        alerts=len(alerts),
        all_alerts_sent_after_restart_s=round(all_sent_s, 1),
    )
