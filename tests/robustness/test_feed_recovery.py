"""Every open screen catches up with every committed order after Redis goes away and comes back, and after a
server process dies with events it had not sent (CONTRACT.md section 5: seq, heartbeat).

The screens here are socket clients that follow the contract's rule, as the pages do (static/js/common.js):
render the snapshot, apply the feed's events in seq order, and open the socket again (a fresh snapshot)
when a heartbeat says the feed is further than their last event or an event skips a seq.
"""

import json
import threading
import time

import pytest
import requests
from rest_framework.authtoken.models import Token
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from ordering.models import Order
from tests.factories import FoodFactory, StaffFactory, TableFactory
from tests.robustness.conftest import order_body, report, served_env
from tests.servers import Daphne

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HEARTBEAT = 2.0  # WS_HEARTBEAT_SECONDS of the served processes
GAP_WAIT = 1.5  # as the pages: how long a gap or a heartbeat ahead may stay before a resync
ORDER_EVENTS = {"order.created", "order.paid", "order.updated"}


class Screen(threading.Thread):
    """One open board or tab: the order ids it shows, kept by the contract's client rule."""

    def __init__(self, url: str, name: str):
        super().__init__(daemon=True, name=name)
        self.url = url
        self.shown: set[str] = set()
        self.snapshots = 0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def orders(self) -> set[str]:
        with self.lock:
            return set(self.shown)

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.follow()
            except (ConnectionClosed, OSError, TimeoutError):
                time.sleep(0.2)

    def follow(self) -> None:
        with ws_connect(self.url, open_timeout=3, close_timeout=1) as socket:
            snapshot = json.loads(socket.recv(timeout=5))
            assert snapshot["type"] == "snapshot", snapshot
            with self.lock:
                self.shown = {order["id"] for order in snapshot["orders"]}
                self.snapshots += 1
            seq, behind_since = snapshot["seq"], None
            while not self.done.is_set():
                try:
                    message = json.loads(socket.recv(timeout=0.2))
                except TimeoutError:
                    message = None
                if message is not None and message["type"] == "heartbeat" and message["seq"] > seq:
                    behind_since = behind_since or time.monotonic()
                elif message is not None and "seq" in message:
                    if message["seq"] > seq + 1:
                        return  # a gap (the pages wait GAP_WAIT for it; here: resync at once)
                    if message["seq"] == seq + 1:
                        seq = message["seq"]
                        behind_since = None
                        if message["type"] in ORDER_EVENTS:
                            with self.lock:
                                self.shown.add(message["order"]["id"])
                if behind_since is not None and time.monotonic() - behind_since > GAP_WAIT:
                    return  # the heartbeat stayed ahead: open again for a fresh snapshot


def open_screens(server: Daphne, table_id, token: str, label: str) -> list[Screen]:
    screens = [
        Screen(f"{server.ws_url}/ws/kitchen/?token={token}", f"kitchen-{label}"),
        Screen(f"{server.ws_url}/ws/tables/{table_id}/", f"tab-{label}"),
    ]
    for screen in screens:
        screen.start()
    return screens


def wait_until_all_show(screens: list[Screen], expected: set[str], deadline: float) -> float | None:
    """Seconds until every screen showed `expected`, or None if one did not by the deadline."""
    started = time.monotonic()
    while time.monotonic() < deadline:
        if all(screen.orders() >= expected for screen in screens):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def place(server: Daphne, table_id, food_id) -> str:
    response = requests.post(f"{server.url}/api/orders/", json=order_body(table_id, food_id), timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_every_screen_shows_every_order_after_a_redis_outage(private_redis):
    table, food = TableFactory(), FoodFactory(price=5000)
    token = Token.objects.create(user=StaffFactory()).key
    env = served_env(REDIS_URL=private_redis.url, WS_HEARTBEAT_SECONDS=HEARTBEAT)
    with Daphne(env=env) as one, Daphne(env=env) as two:
        screens = open_screens(one, table.pk, token, "one") + open_screens(two, table.pk, token, "two")
        try:
            placed = {place(one, table.pk, food.pk), place(two, table.pk, food.pk)}
            assert wait_until_all_show(screens, placed, time.monotonic() + 10) is not None

            private_redis.stop()
            placed |= {place(one, table.pk, food.pk), place(two, table.pk, food.pk)}
            time.sleep(3)
            private_redis.start()
            back = time.monotonic()
            placed |= {place(one, table.pk, food.pk), place(two, table.pk, food.pk)}

            took = wait_until_all_show(screens, placed, back + HEARTBEAT + 2)
            missing = {screen.name: len(placed - screen.orders()) for screen in screens}
        finally:
            for screen in screens:
                screen.done.set()

    assert {str(pk) for pk in Order.objects.values_list("id", flat=True)} == placed
    report("feed_recovery_redis", seconds_after_redis_back=took, missing=missing)
    assert took is not None, f"screens still missing orders {HEARTBEAT + 2} s after Redis came back: {missing}"


def test_every_screen_shows_the_orders_of_a_process_killed_before_it_sent_their_events(private_redis):
    table, food = TableFactory(), FoodFactory(price=5000)
    token = Token.objects.create(user=StaffFactory()).key
    env = served_env(REDIS_URL=private_redis.url, WS_HEARTBEAT_SECONDS=HEARTBEAT)
    doomed = Daphne(env=env).start()
    try:
        with Daphne(env=env) as survivor:
            screens = open_screens(survivor, table.pk, token, "survivor")
            try:
                placed = {place(survivor, table.pk, food.pk)}
                assert wait_until_all_show(screens, placed, time.monotonic() + 10) is not None

                private_redis.stop()  # the doomed process's relay now holds its events, unsent
                placed |= {place(doomed, table.pk, food.pk) for _ in range(3)}
                doomed.stop(kill=True)  # SIGKILL: they are never sent
                private_redis.start()
                back = time.monotonic()

                took = wait_until_all_show(screens, placed, back + HEARTBEAT + 2)
                missing = {screen.name: len(placed - screen.orders()) for screen in screens}
            finally:
                for screen in screens:
                    screen.done.set()
    finally:
        doomed.stop(kill=True)

    report("feed_recovery_kill", seconds_after_redis_back=took, missing=missing)
    assert took is not None, f"screens still missing orders {HEARTBEAT + 2} s after the kill: {missing}"
