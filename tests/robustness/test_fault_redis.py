"""Redis (the channel layer) goes away in the middle of a burst of orders, then comes back.

Orders are the data; events are best effort (CONTRACT.md section 5). So with Redis gone every order is
still saved and answered 201 without hanging, and once Redis is back a new socket's snapshot is the
exact server state.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor, wait

import pytest
import requests
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect as ws_connect

from ordering.models import Order
from tests.factories import FoodFactory, TableFactory
from tests.robustness.conftest import order_body, post_many, report, served_env
from tests.servers import Daphne

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_ANSWER_SECONDS = 3.0  # the layer's send timeout is 2 s; an order must never wait on Redis longer


def snapshot_of(server: Daphne, table_id, attempts: int = 3) -> tuple[dict, int]:
    """Open the table socket like a phone does: a socket closed before its snapshot is opened again.

    Right after Redis returns, the process's first subscribe can still meet the dead pub/sub connection
    (redis-py reconnects on the next command); that socket closes with 1011 and the phone reconnects.
    """
    for attempt in range(1, attempts + 1):
        try:
            with ws_connect(f"{server.ws_url}/ws/tables/{table_id}/", open_timeout=5) as socket:
                return json.loads(socket.recv(timeout=5)), attempt
        except ConnectionClosedError:
            if attempt == attempts:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def test_orders_are_saved_and_answered_while_redis_is_down_and_a_new_socket_resyncs(private_redis):
    table, food = TableFactory(), FoodFactory(price=7000, stock=500)
    bodies = [order_body(table.pk, food.pk) for _ in range(60)]

    with Daphne(env=served_env(REDIS_URL=private_redis.url)) as server:
        before, _ = snapshot_of(server, table.pk)
        assert before["type"] == "snapshot" and before["orders"] == []
        # The burst is under way when Redis dies: a third of it goes out first, the rest after.
        with ThreadPoolExecutor(4) as pool:
            burst = [pool.submit(post_many, f"{server.url}/api/orders/", [body], workers=1) for body in bodies[:30]]
            wait(burst[:10])
            private_redis.stop()
            during = [future.result()[0] for future in burst]
        down = post_many(f"{server.url}/api/orders/", bodies[30:50])

        private_redis.start()  # same port: the served process must find it again by itself
        back = post_many(f"{server.url}/api/orders/", bodies[50:])
        after, attempts = snapshot_of(server, table.pk)
        tab = requests.get(f"{server.url}/api/tables/{table.pk}/orders/", timeout=5).json()
        foods = requests.get(f"{server.url}/api/foods/", timeout=5).json()

    results = during + down + back
    assert [status for status, _, _ in results] == [201] * len(bodies)
    slowest = max(seconds for _, _, seconds in during + down)
    assert slowest < MAX_ANSWER_SECONDS, f"an order waited {slowest:.2f}s on a dead Redis"

    answered = {data["id"] for _, data, _ in results}
    stored = set(Order.objects.filter(table=table).values_list("pk", flat=True))
    assert {str(pk) for pk in stored} == answered
    food.refresh_from_db()
    assert food.stock == 500 - len(bodies)

    assert after["type"] == "snapshot"
    assert after["orders"] == tab["orders"]
    assert len(after["orders"]) == len(bodies)
    assert after["table"] == tab["table"]
    assert after["table"]["total_spent"] == 7000 * len(bodies)
    assert after["foods"] == foods
    report(
        "redis",
        orders=len(bodies),
        orders_in_the_burst_redis_died_in=len(during),
        orders_while_down=len(down),
        slowest_answer_while_down_s=round(slowest, 3),
        median_answer_while_down_s=round(sorted(s for _, _, s in down)[len(down) // 2], 3),
        socket_attempts_after_return=attempts,
    )
