"""A Discord 429 holds the whole webhook until retry_after, in every process, with or without the cache.

Alerts that become due during the wait (orders completed, staff calls made) wait too, as do alerts of the
other outbox posting to the same webhook; a different webhook is another bucket and is not held.
"""

import time

import pytest
import requests
from django.utils import timezone

from background import outbox
from kitchen.services import discord_alerts_dispatch, staff_call, staff_call_alerts_dispatch
from ordering.models import Order
from ordering.services import order_place
from tests.factories import FoodFactory, TableFactory
from tests.fakes import Answer
from tests.robustness.conftest import RecordingFake, order_body, served_env
from tests.servers import Daphne


def limited(retry_after: float) -> Answer:
    return Answer(status=429, body={"message": "You are being rate limited.", "retry_after": retry_after})


class DeadCache:
    """The cache when Redis is down: every call fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache unavailable")

        return fail


@pytest.fixture
def discord(settings):
    with RecordingFake() as fake:
        settings.DISCORD_WEBHOOK_URL = f"{fake.url}/api/webhooks/1/orders-token"
        settings.DISCORD_CALL_WEBHOOK_URL = ""  # staff calls go to the same webhook
        yield fake


def dispatch_all() -> int:
    return discord_alerts_dispatch() + staff_call_alerts_dispatch()


def run_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not delivered in time"
        dispatch_all()
        time.sleep(0.02)


def assert_nothing_inside_the_window(fake: RecordingFake, retry_after: float) -> None:
    answered = fake.answered()
    limited_at = next(r.at for r, a in answered if a.status == 429)
    inside = [r.path for r, _ in answered if limited_at < r.at < limited_at + retry_after - 0.05]
    assert inside == [], f"{len(inside)} request(s) inside the 429 window"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cache_state", ["cache", "cache-down"])
def test_alerts_completed_during_the_wait_are_held_with_or_without_the_cache(discord, monkeypatch, cache_state):
    if cache_state == "cache-down":
        monkeypatch.setattr(outbox, "cache", DeadCache())
    retry_after = 1.0
    discord.script(limited(retry_after))
    table, food = TableFactory(), FoodFactory()
    order_place(table_id=table.pk, quantities={food.pk: 1})

    assert dispatch_all() == 0  # 429
    second = order_place(table_id=table.pk, quantities={food.pk: 1})  # completed during the wait
    call = staff_call(table_id=table.pk, message="물 주세요")
    for _ in range(5):
        assert dispatch_all() == 0
    assert len(discord.received()) == 1
    # The rule is kept in the database too: the new rows wait for the end of the hold.
    assert Order.objects.get(pk=second.pk).discord_notified is False

    run_until(lambda: len(discord.successes()) == 3, timeout=10)
    assert_nothing_inside_the_window(discord, retry_after)
    assert Order.objects.filter(discord_notified=True).count() == 2
    call.refresh_from_db()
    assert call.notified


@pytest.mark.django_db(transaction=True)
def test_a_staff_call_to_the_same_webhook_waits_and_another_webhook_does_not(discord, settings):
    retry_after = 1.0
    discord.script(limited(retry_after))
    table, food = TableFactory(), FoodFactory()
    order_place(table_id=table.pk, quantities={food.pk: 1})
    assert discord_alerts_dispatch() == 0  # 429 on the order webhook

    staff_call(table_id=table.pk, message="same webhook")
    assert staff_call_alerts_dispatch() == 0
    assert len(discord.received()) == 1

    settings.DISCORD_CALL_WEBHOOK_URL = f"{discord.url}/api/webhooks/2/calls-token"  # another bucket
    assert staff_call_alerts_dispatch() == 1
    assert [r.path for r in discord.received()][1:] == ["/api/webhooks/2/calls-token"]

    settings.DISCORD_CALL_WEBHOOK_URL = ""
    staff_call(table_id=table.pk, message="same webhook again")
    run_until(lambda: len(discord.successes()) == 3, timeout=10)
    answered = discord.answered()
    later = [r for r, _ in answered[2:]]
    assert {r.path for r in later} == {"/api/webhooks/1/orders-token"}
    assert min(r.at for r in later) >= answered[0][0].at + retry_after - 0.05


@pytest.mark.django_db(transaction=True)
def test_a_hold_recorded_by_another_process_stops_a_round_already_under_way(discord):
    """The claim itself checks the hold: a sender mid-round takes no further row once a 429 is recorded."""
    table, food = TableFactory(), FoodFactory()
    orders = [order_place(table_id=table.pk, quantities={food.pk: 1}) for _ in range(3)]
    service, sent = f"{discord.url}/api/webhooks/1/orders-token", []

    def send(order):
        sent.append(order.pk)
        outbox.hold(service, 5.0)  # meanwhile another process got a 429 from the same webhook
        return outbox.Delivery(ok=True)

    queryset = Order.objects.filter(pk__in=[o.pk for o in orders])
    delivered = outbox.dispatch(
        queryset=queryset, prefix="discord_", done_field="discord_notified", send=send, service=service
    )

    assert (delivered, len(sent)) == (1, 1)
    assert queryset.filter(discord_notified=False).count() == 2


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_without_a_shared_cache_hold_alerts_completed_during_the_wait():
    """No Redis: each process has its own cache, so the hold must come from the database."""
    retry_after = 4.0
    with RecordingFake() as fake:
        fake.script(limited(retry_after))
        table, food = TableFactory(name="H1"), FoodFactory()
        order_place(table_id=table.pk, quantities={food.pk: 1})
        env = served_env(
            REDIS_URL="",
            DISCORD_WEBHOOK_URL=f"{fake.url}/api/webhooks/1/orders-token",
            BACKGROUND_JOBS=1,
            BACKGROUND_JOBS_INTERVAL=0.1,
        )
        with Daphne(env=env) as first, Daphne(env=env):
            fake.wait_for(1, timeout=15)
            limited_at = timezone.now()
            for _ in range(3):  # completed during the wait; either process may try them
                assert requests.post(f"{first.url}/api/orders/", json=order_body(table.pk, food.pk), timeout=10).ok
            assert (timezone.now() - limited_at).total_seconds() < retry_after - 1, "machine too slow for this test"
            deadline = time.monotonic() + 20
            while len(fake.successes()) < 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # a double would arrive now

        assert [a.status for _, a in fake.answered()] == [429, 204, 204, 204, 204]
        assert_nothing_inside_the_window(fake, retry_after)
