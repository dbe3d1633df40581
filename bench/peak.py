"""Festival peak: many phones on WebSockets, orders at 5/s with bursts of 50/s, pre-orders paid by
PayAction deliveries, staff sold-out toggles and kitchen moves on counted stock; then the books must agree.

    uv run python bench/peak.py --short                 # CI size: 30 tables x 2 phones, about 20 s
    uv run python bench/peak.py --docs docs/benchmarks.md   # full: 300 tables x 3 phones, 2 processes

After the load it checks, and exits 1 if any check fails:
- no oversell: per counted food, ordered units (orders not cancelled) == initial stock - final stock >= 0;
- no lost order: every 201 is in the database, and the database holds no order nobody placed;
- no lost payment: every delivered deposit (answered 200) of a pending pre-order completed it, once
  (one PaymentEvent per trace id, replays included); unpaid pre-orders are still pending;
- no duplicated alert: the fake Discord got exactly one successful post per completed order;
- every phone's state (its snapshot, then each event applied) equals the server's final state of its
  table (GET /api/tables/{id}/orders/) and menu (GET /api/foods/).

Full mode drops and recreates the database `bench_peak` on BENCH_MYSQL (see bench/README.md);
`--database-url` uses an existing, migrated database instead (the CI test passes pytest's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import common
from common import Servers, cpu_seconds, log, machine_info, raise_nofile, rss_kib, summary_ms

PROFILES = {
    # tables, phones per table, seconds of load, sustained rate, bursts (count x seconds at burst_rate)
    "short": {"tables": 30, "phones": 2, "seconds": 20, "rate": 5.0, "burst_rate": 50.0, "bursts": 2,
              "burst_seconds": 1.0, "stock": 60, "servers": 2},
    "full": {"tables": 300, "phones": 3, "seconds": 120, "rate": 5.0, "burst_rate": 50.0, "bursts": 4,
             "burst_seconds": 2.0, "stock": 300, "servers": 2},
}  # fmt: skip
WEBHOOK_KEY = "peak-webhook-key"
PRE_ORDER_SHARE = 0.3
UNPAID_SHARE = 0.1  # pre-orders never paid: they must stay pending
REPLAY_SHARE = 0.15  # deliveries PayAction sends twice (same trace id)
MATCH_NOTICE_SHARE = 0.2  # paid through the "매칭완료" form instead of a deposit notice
ORDER_EVENTS = ("order.created", "order.paid", "order.updated")
MENU_READ_SPREAD = 1.0  # static/js/common.js MENU_READ_SPREAD_MS


# --- the clients ------------------------------------------------------------------------------------------


class Http:
    """A few keep-alive connections shared by every task (cheap on CPU; the servers need the cores)."""

    def __init__(self, url: str, size: int):
        self.url = url
        self.pool: asyncio.Queue = asyncio.Queue()
        for _ in range(size):
            self.pool.put_nowait(common.conn_for(url))

    async def call(
        self, method: str, path: str, body=None, headers=None, answer_headers: dict | None = None
    ) -> tuple[int | str, dict | list | None, float]:
        """`answer_headers`, if given, gets the answer's headers (names in lower case)."""
        conn = await self.pool.get()
        started = time.monotonic()
        try:
            status, data = await asyncio.wait_for(conn.request(method, path, body, headers), 30)
            if answer_headers is not None:
                answer_headers.update(conn.headers)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, common.HttpError) as exc:
            await conn.close()
            return type(exc).__name__, None, time.monotonic() - started
        finally:
            self.pool.put_nowait(conn)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, parsed, time.monotonic() - started

    async def close(self) -> None:
        while not self.pool.empty():
            await self.pool.get_nowait().close()


class Phone:
    """A customer's phone on /ws/tables/{id}/, following the page's rule (static/js/common.js): it renders
    the snapshot, applies the feed's events in seq order (one ahead of the next waits for the missing ones),
    opens the socket again for a fresh snapshot when a gap or a heartbeat ahead stays GAP_WAIT, and reads
    the menu again when a heartbeat's menu_version differs from its own (food state is not numbered: a
    food.updated lost to a Redis outage is caught up this way)."""

    GAP_WAIT = 1.5

    def __init__(self, ws_url: str, table_id: str, http: Http):
        self.url = f"{ws_url}/ws/tables/{table_id}/"
        self.http = http
        self.menu_version: str | None = None
        self.menu_stale = False
        self.menu_read: asyncio.Task | None = None
        self.menu_reloads = 0
        self.menu_etag: str | None = None  # of the menu the page read when it opened, then of each read
        self.menu_copy: list = []  # that read's menu, as the browser keeps it
        self.table_id = table_id
        self.table: dict | None = None
        self.orders: dict[str, dict] = {}
        self.foods: dict[int, dict] = {}
        self.snapshots = 0
        self.reconnects = 0
        self.messages = 0
        self.food_messages = 0
        self.resyncs = 0
        self.seq = 0
        self.held: dict[int, dict] = {}
        self.behind_since: float | None = None
        self.last_message_at = 0.0
        # False from a resync or a dropped socket until the next snapshot: the settle wait must not read the
        # final state while a phone is between its sockets (it would be judged on a state it has not had).
        self.in_sync = False
        self.latencies: list[float] = []
        self.ready = asyncio.Event()

    def receive(self, message: dict) -> bool:
        """Takes one message; False when the phone must open the socket again (it is behind)."""
        kind = message["type"]
        if kind == "snapshot":
            self.seq, self.held, self.behind_since = message["seq"], {}, None
            self.menu_version = message["menu_version"]
            self.apply(message)
        elif kind == "heartbeat":
            if message["seq"] > self.seq:
                self.behind_since = self.behind_since or time.monotonic()
            if message["menu_version"] != self.menu_version:  # as the page: read the menu again
                self.menu_version = message["menu_version"]
                self.menu_stale = True
        elif "seq" in message:
            if message["seq"] > self.seq:
                self.held[message["seq"]] = message
            while self.seq + 1 in self.held:
                self.seq += 1
                self.apply(self.held.pop(self.seq))
            if not self.held:
                self.behind_since = None
            elif self.behind_since is None:
                self.behind_since = time.monotonic()
        else:
            if kind == "food.updated":
                self.food_messages += 1
            self.apply(message)
        return self.behind_since is None or time.monotonic() - self.behind_since < self.GAP_WAIT

    def apply(self, message: dict) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.snapshots += 1
            self.table = message["table"]
            self.orders = {o["id"]: o for o in message["orders"]}
            self.foods = {f["id"]: f for f in message["foods"]}
        elif kind in ORDER_EVENTS:
            order = message["order"]
            if order["status"] == "cancelled":
                self.orders.pop(order["id"], None)  # the tab leaves cancelled orders out
            else:
                self.orders[order["id"]] = order
            self.latencies.append(time.time() - datetime.fromisoformat(message["ts"]).timestamp())
        elif kind == "food.updated":
            self.foods[message["food"]["id"]] = message["food"]
        elif kind == "table.reset":
            self.orders = {k: o for k, o in self.orders.items() if o["status"] == "pre_order"}

    async def read_menu(self) -> None:
        """As the page: after a moment within MENU_READ_SPREAD (every phone gets its heartbeat at once)."""
        await asyncio.sleep(random.random() * MENU_READ_SPREAD)
        self.menu_reloads += 1
        # As a browser's fetch does with an answer marked no-cache: it revalidates the copy it has.
        condition = {"If-None-Match": self.menu_etag} if self.menu_etag else None
        answer: dict = {}
        status, menu, _ = await self.http.call("GET", "/api/foods/", headers=condition, answer_headers=answer)
        if status == 304:  # the browser hands the page the copy it kept
            menu, status = self.menu_copy, 200
        if status == 200:
            self.foods = {f["id"]: f for f in menu}
            self.menu_etag, self.menu_copy = answer.get("etag", self.menu_etag), menu
        self.menu_read = None

    def total_spent(self) -> int:
        return sum(o["total_amount"] - o["refunded_amount"] for o in self.orders.values() if o["status"] == "completed")

    async def run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake

        while True:
            try:
                async with connect(self.url, open_timeout=30, max_size=None, ping_interval=None, proxy=None) as socket:
                    async for raw in socket:
                        self.messages += 1
                        message = json.loads(raw)
                        if message["type"] != "heartbeat":  # the settle wait is for events, not heartbeats
                            self.last_message_at = time.monotonic()
                        if not self.receive(message):
                            self.resyncs += 1
                            self.in_sync = False
                            break
                        if message["type"] == "snapshot":
                            self.in_sync = True
                        if self.menu_stale and self.menu_read is None:
                            self.menu_stale = False
                            self.menu_read = asyncio.get_running_loop().create_task(self.read_menu())
                        self.ready.set()
            except (TimeoutError, ConnectionClosed, InvalidHandshake, OSError):
                pass
            self.in_sync = False
            self.reconnects += 1  # like the page: open again, and render from the new snapshot
            await asyncio.sleep(0.5)


# --- the load ----------------------------------------------------------------------------------------------


def arrival_times(profile: dict, rng: random.Random) -> list[float]:
    """Offsets (s) of order arrivals: Poisson at `rate`, plus evenly spaced bursts at `burst_rate`."""
    times, t = [], 0.0
    while True:
        t += rng.expovariate(profile["rate"])
        if t >= profile["seconds"]:
            break
        times.append(t)
    for k in range(profile["bursts"]):
        start = profile["seconds"] * (k + 1) / (profile["bursts"] + 1)
        count = int(profile["burst_rate"] * profile["burst_seconds"])
        times += [start + i / profile["burst_rate"] for i in range(count)]
    return sorted(times)


class Run:
    def __init__(self, profile: dict, http: Http, tables: list[str], foods: list[dict], token: str, rng):
        self.profile, self.http, self.tables, self.foods, self.rng = profile, http, tables, foods, rng
        self.counted = [f for f in foods if f["stock"] is not None]
        self.staff = {"Authorization": f"Token {token}"}
        self.placed: list[dict] = []  # 201 answers: {"kind", "order_id", "order_number", "table", "at"}
        self.statuses: Counter = Counter()
        self.latency: dict[str, list[float]] = {"order": [], "pre_order": [], "webhook": [], "staff": []}
        self.deliveries: list[dict] = []  # {"trace_id", "order_id" or None, "status", "form"}
        self.done_at: list[float] = []
        self.toggles: Counter = Counter()
        self.kitchen_moves: Counter = Counter()
        self.tasks: list[asyncio.Task] = []
        self.outage: tuple[OwnRedis, float] | None = None
        self.outage_window: tuple[float, float] | None = None  # loop times Redis was down

    def lines(self) -> list[dict]:
        picked = self.rng.sample(self.foods, self.rng.randint(1, 3))
        if self.counted and self.rng.random() < 0.5 and not any(f["stock"] is not None for f in picked):
            picked[0] = self.rng.choice(self.counted)
        return [{"food_id": f["id"], "quantity": self.rng.randint(1, 2)} for f in picked]

    async def place(self, n: int) -> None:
        table = self.rng.choice(self.tables)
        items = self.lines()
        key = {"Idempotency-Key": str(uuid.uuid4())}  # as the phones' page sends each order
        if self.rng.random() < PRE_ORDER_SHARE:
            prices = {f["id"]: f["price"] for f in self.foods}
            total = sum(prices[line["food_id"]] * line["quantity"] for line in items)
            body = {"payer_name": f"피크{n}", "total_amount": total, "items": items}
            status, data, seconds = await self.http.call("POST", f"/api/orders/pre-order/{table}/", body, key)
            kind = "pre_order"
        else:
            body = {"table_id": table, "items": items}
            status, data, seconds = await self.http.call("POST", "/api/orders/", body, key)
            kind = "order"
        self.statuses[(kind, status, (data or {}).get("code") if isinstance(data, dict) else None)] += 1
        self.done_at.append(time.monotonic())
        if status != 201:
            return
        self.latency[kind].append(seconds)
        order_id = data["order_id"] if kind == "pre_order" else data["id"]
        self.placed.append(
            {
                "kind": kind,
                "order_id": order_id,
                "order_number": data["order_number"],
                "table": table,
                "n": n,
                "at": asyncio.get_running_loop().time(),
            }
        )
        if kind == "pre_order" and self.rng.random() >= UNPAID_SHARE:
            self.tasks.append(asyncio.create_task(self.pay(n, order_id, data["order_number"], body)))

    async def pay(self, n: int, order_id: str, order_number: str, pre_order: dict) -> None:
        await asyncio.sleep(self.rng.uniform(0.3, 3.0))  # the customer in the bank app
        if self.rng.random() < MATCH_NOTICE_SHARE:
            form = "match"
            body = {
                "order_number": order_number,
                "order_status": "매칭완료",
                "processing_date": "2026-05-01T21:00:00+09:00",
            }
        else:
            form = "deposit"
            body = {
                "transaction_type": "deposited",
                "transaction_name": pre_order["payer_name"],
                "amount": pre_order["total_amount"],
                "transaction_date": "2026-05-01 21:00:00",
                "bank_account_number": "100-000-000000",
            }
        trace = f"peak-{uuid.uuid4().hex[:12]}-{n}"
        times = 2 if self.rng.random() < REPLAY_SHARE else 1
        for attempt in range(times):
            if attempt:
                await asyncio.sleep(self.rng.uniform(0.2, 1.5))
            status = await self.deliver(body, trace)
            self.deliveries.append({"trace_id": trace, "order_id": order_id, "status": status, "form": form})

    async def deliver(self, body: dict, trace: str):
        """One PayAction delivery: retried (same trace id) on a 5xx or a broken connection, 3 times at most."""
        headers = {"x-webhook-key": WEBHOOK_KEY, "x-trace-id": trace}
        status = None
        for _ in range(4):
            status, _, seconds = await self.http.call("POST", "/api/webhook/payment/", body, headers)
            self.latency["webhook"].append(seconds)
            if isinstance(status, int) and status < 500:
                return status
            await asyncio.sleep(0.5)
        return status

    async def stray_deposit(self, n: int) -> None:
        """A deposit nobody ordered for: stored as unmatched, nothing completed."""
        body = {"transaction_type": "deposited", "transaction_name": f"모르는{n}", "amount": 1234}
        status = await self.deliver(body, f"peak-stray-{uuid.uuid4().hex[:12]}")
        self.deliveries.append({"trace_id": None, "order_id": None, "status": status, "form": "stray"})

    async def staff_toggles(self, stop: asyncio.Event) -> None:
        """Staff switch a counted dish off and on again, as when the kitchen checks what is left."""
        while not stop.is_set() and self.counted:
            food = self.rng.choice(self.counted)
            for sold_out in (True, False):
                status, data, seconds = await self.http.call(
                    "PATCH", f"/api/foods/{food['id']}/", {"sold_out": sold_out}, self.staff
                )
                self.latency["staff"].append(seconds)
                self.toggles[(sold_out, status, (data or {}).get("code") if status != 200 else None)] += 1
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.7)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    async def kitchen(self, stop: asyncio.Event) -> None:
        """The kitchen moves the oldest tickets on: queued -> cooking -> served."""
        following = {"queued": "cooking", "cooking": "served"}
        while not stop.is_set():
            status, tickets, _ = await self.http.call("GET", "/api/kitchen/orders/", None, self.staff)
            if status == 200:
                for ticket in tickets[:3]:
                    body = {"kitchen_status": following[ticket["kitchen_status"]]}
                    moved, _, _ = await self.http.call(
                        "PATCH", f"/api/orders/{ticket['id']}/kitchen-status/", body, self.staff
                    )
                    self.kitchen_moves[moved] += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async def load(self) -> float:
        arrivals = arrival_times(self.profile, self.rng)
        stop = asyncio.Event()
        helpers = [asyncio.create_task(self.staff_toggles(stop)), asyncio.create_task(self.kitchen(stop))]
        if self.outage is not None:
            helpers.append(asyncio.create_task(self.redis_outage()))
        loop = asyncio.get_running_loop()
        started = loop.time()
        for n, offset in enumerate(arrivals):
            delay = started + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.tasks.append(asyncio.create_task(self.place(n)))
            if n % 50 == 49:
                self.tasks.append(asyncio.create_task(self.stray_deposit(n)))
        while any(not t.done() for t in self.tasks):  # pay() tasks are added while others finish
            await asyncio.gather(*list(self.tasks))
        stop.set()
        await asyncio.gather(*helpers)
        return loop.time() - started

    async def redis_outage(self) -> None:
        """Redis (the channel layer) away for a while in the middle of the load, then back on its port."""
        redis, seconds = self.outage
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.profile["seconds"] * 0.4)
        down = loop.time()
        await asyncio.to_thread(redis.stop)
        log(f"redis stopped for {seconds:.0f} s")
        await asyncio.sleep(seconds)
        await asyncio.to_thread(redis.start)
        self.outage_window = (down, loop.time())
        log("redis back")


class OwnRedis:
    """A redis-server of this run on a free port (--outage), stopped and started again on the same port."""

    def __init__(self):
        self.port = common.free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> OwnRedis:
        import redis

        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = common.Deadline(10)
        while not deadline.passed():
            try:
                if redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


# --- setup and checks ----------------------------------------------------------------------------------------


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["BACKGROUND_JOBS"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(profile: dict, run_id: str) -> tuple[list[str], list[dict], str]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from ordering.models import Category, Food, Table

    tables = Table.objects.bulk_create(Table(name=f"{run_id}-{i:03d}") for i in range(profile["tables"]))
    menu = [
        ("피크 파전", 15000, Category.MENU, profile["stock"]),
        ("피크 닭꼬치", 4000, Category.MENU, profile["stock"]),
        ("피크 막걸리", 8000, Category.DRINKS, profile["stock"]),
        ("피크 김치전", 12000, Category.MENU, None),
        ("피크 오뎅탕", 13000, Category.MENU, None),
        ("피크 라면", 5000, Category.MENU, None),
        ("피크 맥주", 5000, Category.DRINKS, None),
        ("피크 콜라", 2000, Category.DRINKS, None),
    ]
    foods = [Food.objects.create(name=name, price=price, category=cat, stock=stock) for name, price, cat, stock in menu]
    staff = get_user_model().objects.create_user(f"peak-{run_id}", password=uuid.uuid4().hex, is_staff=True)
    token = Token.objects.create(user=staff).key
    return (
        [str(t.pk) for t in tables],
        [{"id": f.pk, "price": f.price, "stock": f.stock} for f in foods],
        token,
    )


def check(run: Run, foods: list[dict], tables: list[str], alerts: list[str], phones: list[Phone], final: dict) -> dict:
    """The books: database, stock, payments, alerts and every phone must agree."""
    from django.db.models import Sum

    from ordering.models import Food, Order, OrderItem, OrderStatus
    from payments.models import PaymentEvent

    results: dict = {}
    stock = {}
    for food in foods:
        if food["stock"] is None:
            continue
        now = Food.objects.get(pk=food["id"]).stock
        sold = (
            OrderItem.objects.filter(food_id=food["id"])
            .exclude(order__status=OrderStatus.CANCELLED)
            .aggregate(s=Sum("quantity"))["s"]
            or 0
        )
        stock[food["id"]] = {"initial": food["stock"], "final": now, "ordered": sold}
    results["no_oversell"] = all(s["final"] >= 0 and s["ordered"] == s["initial"] - s["final"] for s in stock.values())
    results["stock"] = stock

    stored = {str(pk): (status, number) for pk, status, number in
              Order.objects.filter(table_id__in=tables).values_list("pk", "status", "order_number")}  # fmt: skip
    answered = {p["order_id"] for p in run.placed}
    results["no_lost_order"] = answered <= set(stored)
    results["no_phantom_order"] = set(stored) <= answered
    results["lost_orders"] = sorted(answered - set(stored))

    paid = {d["order_id"] for d in run.deliveries if d["order_id"] and d["status"] == 200}
    unpaid = {p["order_id"] for p in run.placed if p["kind"] == "pre_order"} - {
        d["order_id"] for d in run.deliveries if d["order_id"]
    }
    traces = [d["trace_id"] for d in run.deliveries if d["trace_id"]]
    events_per_trace = Counter(PaymentEvent.objects.filter(trace_id__in=set(traces)).values_list("trace_id", flat=True))
    results["no_lost_payment"] = all(stored[o][0] == OrderStatus.COMPLETED for o in paid)
    results["unpaid_still_pending"] = all(stored[o][0] == OrderStatus.PRE_ORDER for o in unpaid)
    results["one_event_per_delivery"] = set(events_per_trace.values()) <= {1} and len(events_per_trace) == len(
        set(traces)
    )
    results["payments_delivered"] = len(paid)

    completed = {number for status, number in stored.values() if status == OrderStatus.COMPLETED}
    results["no_duplicate_alert"] = len(alerts) == len(set(alerts))
    results["every_completed_order_alerted"] = set(alerts) == completed

    mismatched = []
    for phone in phones:
        tab = final["tabs"][phone.table_id]
        server_orders = {o["id"]: o for o in tab["orders"]}
        same = (
            phone.orders == server_orders
            and phone.total_spent() == tab["total_spent"]
            and phone.foods == final["foods"]
            and phone.table is not None
            and phone.table["id"] == tab["table"]["id"]
        )
        if not same:
            stale = [k for k, order in server_orders.items() if phone.orders.get(k, order) != order]
            mismatched.append(
                {
                    "table": phone.table_id,
                    "orders_missing": sorted(set(server_orders) - set(phone.orders))[:5],
                    "orders_extra": sorted(set(phone.orders) - set(server_orders))[:5],
                    "orders_stale": sorted(stale)[:5],
                    "foods_stale": sorted(k for k in final["foods"] if phone.foods.get(k) != final["foods"][k]),
                }
            )
    results["phones_match_server"] = not mismatched
    results["phone_mismatches"] = mismatched[:10]
    results["phones_mismatched"] = len(mismatched)
    results["ok"] = all(
        results[k]
        for k in (
            "no_oversell",
            "no_lost_order",
            "no_phantom_order",
            "no_lost_payment",
            "unpaid_still_pending",
            "one_event_per_delivery",
            "no_duplicate_alert",
            "every_completed_order_alerted",
            "phones_match_server",
        )
    )
    return results


async def loop_lag(lags: list[float], every: float = 0.01) -> None:
    """How late this client's event loop wakes a 10 ms timer: what the client's own figures hold besides the
    servers' time (its 900 phone sockets share the loop and the cores)."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every
        await asyncio.sleep(every)
        lags.append(loop.time() - due)


async def drive(profile: dict, servers: Servers, tables, foods, token, fake, seed_value: int, outage=None) -> dict:
    http = Http(servers.url, size=48)
    phones = [Phone(servers.ws_url, t, http) for t in tables for _ in range(profile["phones"])]
    opened: dict = {}  # the table page reads the menu when it opens: its browser keeps that copy's ETag
    status, menu, _ = await http.call("GET", "/api/foods/", answer_headers=opened)
    assert status == 200 and opened.get("etag"), (status, opened)
    for phone in phones:
        phone.menu_etag, phone.menu_copy = opened.get("etag"), menu
    phone_tasks = []
    for start in range(0, len(phones), 50):  # open the sockets in waves, as people sit down
        batch = phones[start : start + 50]
        phone_tasks += [asyncio.create_task(p.run()) for p in batch]
        await asyncio.wait_for(asyncio.gather(*(p.ready.wait() for p in batch)), 120)
    log(f"{len(phones)} phones connected")

    run = Run(profile, http, tables, foods, token, random.Random(seed_value))
    run.outage = outage
    cpu_before = [cpu_seconds(pid) for pid in servers.pids]
    client_before = cpu_seconds(os.getpid())
    lags: list[float] = []
    lag_task = asyncio.create_task(loop_lag(lags))
    load_seconds = await run.load()
    lag_task.cancel()
    cpu_used = [round(cpu_seconds(pid) - before, 1) for pid, before in zip(servers.pids, cpu_before, strict=True)]
    client_cpu = round(cpu_seconds(os.getpid()) - client_before, 1)  # the phones share the cores with the servers
    log(f"load done in {load_seconds:.1f}s: {sum(run.statuses.values())} orders sent")

    # Settle: every completed order alerted, then the phones quiet for 2 s.
    from asgiref.sync import sync_to_async

    from ordering.models import Order, OrderStatus

    @sync_to_async
    def completed_count() -> int:
        return Order.objects.filter(table_id__in=tables, status=OrderStatus.COMPLETED).count()

    settle_started = time.monotonic()
    deadline = common.Deadline(120)
    while not deadline.passed() and len(fake.successes()) < await completed_count():
        await asyncio.sleep(0.5)
    alerts_settled_s = time.monotonic() - settle_started
    while not deadline.passed() and (
        time.monotonic() - max(p.last_message_at for p in phones) < 2.0
        or not all(p.in_sync and p.behind_since is None and p.menu_read is None for p in phones)
    ):
        await asyncio.sleep(0.25)

    tabs = {}
    for start in range(0, len(tables), 40):
        answers = await asyncio.gather(
            *(http.call("GET", f"/api/tables/{t}/orders/") for t in tables[start : start + 40])
        )
        for table, (status, data, _) in zip(tables[start : start + 40], answers, strict=True):
            assert status == 200, (table, status, data)
            tabs[table] = data
    status, menu, _ = await http.call("GET", "/api/foods/")
    assert status == 200
    final = {"tabs": tabs, "foods": {f["id"]: f for f in menu}}
    await asyncio.sleep(0.5)
    for task in phone_tasks:
        task.cancel()
    await asyncio.gather(*phone_tasks, return_exceptions=True)
    await http.close()
    return {
        "run": run,
        "phones": phones,
        "final": final,
        "load_seconds": load_seconds,
        "client_loop_lag": summary_ms(lags),
        "alerts_settled_s": alerts_settled_s,
        "cpu_seconds_per_server": cpu_used,
        "client_cpu_seconds": client_cpu,
        "outage": run_outage(run),
    }


def run_outage(run: Run) -> dict | None:
    """The Redis outage of the run: its seconds, and the writes answered 201 while Redis was away."""
    if run.outage_window is None:
        return None
    down, up = run.outage_window
    during = [p for p in run.placed if down <= p["at"] <= up]
    return {"seconds": round(up - down, 1), "placed_during": len(during)}


TIMED_PATHS = (
    ("POST", "/api/orders/pre-order/", "pre_order"),
    ("POST", "/api/orders/", "order"),
    ("POST", "/api/webhook/payment/", "webhook"),
    ("PATCH", "/api/foods/", "staff"),
    ("GET", "/api/foods/", "menu"),
)


def server_times(logs: list[Path]) -> dict:
    """Each kind of request's durations as the servers logged them (from the ASGI scope to the last byte):
    the client's numbers also hold the time its own event loop, busy with 900 phones, took to read them."""
    durations: dict[str, list[float]] = {}
    for path in logs:
        with contextlib.suppress(OSError), open(path, encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"duration_ms"' not in line:
                    continue
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    for method, prefix, kind in TIMED_PATHS:
                        if entry.get("method") == method and entry.get("path", "").startswith(prefix):
                            durations.setdefault(kind, []).append(entry["duration_ms"] / 1000)
                            break
    return {kind: summary_ms(values) for kind, values in sorted(durations.items())}


def peak_rate(times: list[float]) -> int:
    """The most answers inside any one-second window."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="CI size (30 tables x 2 phones, ~20 s)")
    parser.add_argument("--servers", type=int, help="daphne processes (default 2)")
    parser.add_argument("--tables", type=int)
    parser.add_argument("--phones", type=int, help="phones per table")
    parser.add_argument("--seconds", type=float, help="seconds of sustained load")
    parser.add_argument("--database-url", help="an existing migrated database (default: fresh bench_peak)")
    parser.add_argument("--redis-url", default=common.REDIS_URL)
    parser.add_argument("--json", help="where to write the results (default bench/results/peak-*.json)")
    parser.add_argument("--docs", help="update the 'Festival peak' section of this markdown file")
    parser.add_argument("--seed", type=int, default=20260501)
    parser.add_argument(
        "--outage",
        type=float,
        default=0,
        help="seconds the channel layer's Redis is away in the middle of the load (a redis-server of this run; "
        "heartbeats every 2 s): every phone must still end equal to the server",
    )
    args = parser.parse_args()

    profile = dict(PROFILES["short" if args.short else "full"])
    for key in ("servers", "tables", "phones", "seconds"):
        if getattr(args, key) is not None:
            profile[key] = getattr(args, key)
    own_redis = OwnRedis().start() if args.outage else None
    if own_redis is not None:
        args.redis_url = own_redis.url
    if profile["servers"] > 1 and not args.redis_url:
        sys.exit("more than one server needs --redis-url (the channel layer between processes)")
    raise_nofile(profile["tables"] * profile["phones"] * 2 + 512)

    if args.database_url:
        database_url = args.database_url
    else:
        database_url = common.database_url(common.fresh_database("bench_peak", staff=False)["database"])
    django_setup(database_url)
    run_id = f"pk{uuid.uuid4().hex[:6]}"
    tables, foods, token = seed(profile, run_id)
    log(f"seeded {len(tables)} tables, {len(foods)} foods on {database_url.rsplit('@', 1)[-1]}")

    from tests.fakes import FakeService

    with FakeService() as fake:
        fake.successes = lambda: [r for r in fake.received() if "embeds" in r.json()]  # it answers 204 throughout
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DISCORD_CALL_WEBHOOK_URL", "PAYACTION_API_KEY")},
            "DATABASE_URL": database_url,
            "REDIS_URL": args.redis_url or "",
            "CHANNEL_LAYER_PREFIX": run_id,
            "CACHE_KEY_PREFIX": run_id,
            "THROTTLE": "off",
            "DEBUG": "0",
            "SECRET_KEY": "bench-peak",
            "BANK_ACCOUNT_NO": "100-200-300",  # pre-orders need an account to pay to with DEBUG off
            "BACKGROUND_JOBS": "1",
            "BACKGROUND_JOBS_INTERVAL": "0.5",
            "DISCORD_WEBHOOK_URL": fake.url,
            "DISCORD_CALL_WEBHOOK_URL": "",
            "PAYACTION_WEBHOOK_KEY": WEBHOOK_KEY,
            "PAYACTION_MALL_ID": "",
            # One JSON access line per request: the servers' own times, apart from the client's event loop.
            "LOG_FORMAT": "json",
            "ACCESS_LOG": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        if own_redis is not None:
            env["WS_HEARTBEAT_SECONDS"] = "2"
        servers = Servers(env=env, count=profile["servers"]).start()
        outage = (own_redis, args.outage) if own_redis is not None else None
        try:
            outcome = asyncio.run(drive(profile, servers, tables, foods, token, fake, args.seed, outage))
            rss = [rss_kib(pid) for pid in servers.pids]
        finally:
            servers.stop()
            if own_redis is not None:
                own_redis.stop()
        server_latency = server_times(servers.logs)
        alerts = []
        for recorded in fake.successes():
            fields = recorded.json()["embeds"][0]["fields"]
            alerts.append(next(f["value"] for f in fields if f["name"] == "주문번호"))

    run: Run = outcome["run"]
    phones: list[Phone] = outcome["phones"]
    checks = check(run, foods, tables, alerts, phones, outcome["final"])
    statuses = Counter()
    for (kind, status, code), count in run.statuses.items():
        statuses[f"{kind} {status}{' ' + code if code else ''}"] += count
    result = {
        "profile": profile,
        "machine": machine_info(),
        "load_seconds": round(outcome["load_seconds"], 1),
        "orders_sent": sum(run.statuses.values()),
        "answers": dict(sorted(statuses.items())),
        "orders_placed": sum(1 for p in run.placed if p["kind"] == "order"),
        "pre_orders_placed": sum(1 for p in run.placed if p["kind"] == "pre_order"),
        "peak_answers_per_s": peak_rate(run.done_at),
        "latency": {kind: summary_ms(values) for kind, values in run.latency.items()},
        "server_latency": server_latency,
        "deliveries": dict(Counter(f"{d['form']} {d['status']}" for d in run.deliveries)),
        "staff_toggles": {f"sold_out={k[0]} {k[1]}{' ' + k[2] if k[2] else ''}": v for k, v in run.toggles.items()},
        "kitchen_moves": dict(run.kitchen_moves),
        "phones": len(phones),
        "phone_messages": sum(p.messages for p in phones),
        "phone_food_messages": sum(p.food_messages for p in phones),
        "phone_resyncs": sum(p.resyncs for p in phones),
        "phone_menu_reloads": sum(p.menu_reloads for p in phones),
        "outage": outcome["outage"],
        "phone_reconnects": sum(p.reconnects for p in phones),
        "event_delivery": summary_ms([s for p in phones for s in p.latencies]),
        "alerts": len(alerts),
        "alerts_settled_after_load_s": round(outcome["alerts_settled_s"], 1),
        "server_cpu_seconds": outcome["cpu_seconds_per_server"],
        "client_cpu_seconds": outcome["client_cpu_seconds"],
        "client_loop_lag": outcome["client_loop_lag"],
        "server_rss_mib": [round(kib / 1024) for kib in rss],
        "checks": checks,
    }
    path = Path(args.json) if args.json else common.write_results("peak-short" if args.short else "peak", result)
    if args.json:
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    log(f"results: {path}")
    print(
        json.dumps(
            {
                k: result[k]
                for k in ("orders_sent", "answers", "latency", "server_latency", "event_delivery", "client_loop_lag")
            },
            ensure_ascii=False,
        )
    )
    print(json.dumps({k: v for k, v in checks.items() if not isinstance(v, dict | list)}, ensure_ascii=False))
    if args.docs:
        write_docs(Path(args.docs), result)
    return 0 if checks["ok"] else 1


def write_docs(path: Path, r: dict) -> None:
    """Replace (or append) this benchmark's own section; other sections of the file are left as they are."""
    p, lat, c, m = r["profile"], r["latency"], r["checks"], r["machine"]

    def table(header: list[str], rows: list[list]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows])

    def timing(name: str, s: dict) -> list:
        return [name, s["n"], s["p50_ms"], s["p90_ms"], s["p99_ms"], s["max_ms"]]

    placed = r["orders_placed"] + r["pre_orders_placed"]
    stock = [(v["initial"], v["ordered"], v["final"]) for v in c["stock"].values()]
    counts = table(
        ["", "count"],
        [
            ["orders sent / answered 201", f"{r['orders_sent']} / {placed}"],
            ["direct orders / pre-orders placed", f"{r['orders_placed']} / {r['pre_orders_placed']}"],
            ["answers", ", ".join(f"{k}: {v}" for k, v in r["answers"].items())],
            ["most answers in one second", r["peak_answers_per_s"]],
            ["PayAction deliveries", ", ".join(f"{k}: {v}" for k, v in r["deliveries"].items())],
            ["staff sold-out toggles", ", ".join(f"{k}: {v}" for k, v in r["staff_toggles"].items())],
            ["kitchen moves", ", ".join(f"{k}: {v}" for k, v in r["kitchen_moves"].items())],
            ["Discord alerts", f"{r['alerts']} (all in {r['alerts_settled_after_load_s']} s after the load ended)"],
            [
                "socket messages to phones (food.updated among them)",
                f"{r['phone_messages']} ({r['phone_food_messages']}; {r['phone_reconnects']} reconnects, "
                f"{r['phone_resyncs']} resyncs)",
            ],
            ["server CPU seconds / RSS MiB", f"{r['server_cpu_seconds']} / {r['server_rss_mib']}"],
            ["bench client CPU seconds (phones, load)", r["client_cpu_seconds"]],
        ],
    )
    timings = table(
        ["latency (ms)", "n", "p50", "p90", "p99", "max"],
        [
            timing("POST /api/orders/ (201)", lat["order"]),
            timing("POST /api/orders/pre-order/ (201)", lat["pre_order"]),
            timing("POST /api/webhook/payment/", lat["webhook"]),
            timing("staff PATCH /api/foods/", lat["staff"]),
            timing("order event: server ts to phone", r["event_delivery"]),
            timing("bench client's event loop: a 10 ms timer's lateness", r["client_loop_lag"]),
        ],
    )
    checks = table(
        ["check", "result"],
        [
            ["no oversell: (initial, ordered, final) per counted dish", f"{c['no_oversell']} {stock}"],
            ["every 201 stored, nothing stored unanswered", c["no_lost_order"] and c["no_phantom_order"]],
            [
                "every delivered payment completed its pre-order; one event per delivery",
                f"{c['no_lost_payment'] and c['one_event_per_delivery']} ({c['payments_delivered']} paid)",
            ],
            ["unpaid pre-orders still pending", c["unpaid_still_pending"]],
            [
                "one Discord alert per completed order, none twice",
                c["every_completed_order_alerted"] and c["no_duplicate_alert"],
            ],
            [
                "every phone's rendered state == the server's final state",
                f"{c['phones_match_server']} ({c['phones_mismatched']} of {r['phones']} differ)",
            ],
        ],
    )
    section = (
        "## Festival peak\n\n"
        f"`uv run python bench/peak.py` ({m['date']}; {m['nproc']} cores, {m['cpu_model']}; load average before "
        f"the run {m['load_avg_1_5_15']}, the machine shared with other work). {p['servers']} daphne processes on "
        f"one socket, Redis channel layer, MariaDB; {p['tables']} tables x {p['phones']} phones = {r['phones']} "
        f"table sockets; orders at {p['rate']:g}/s for {p['seconds']:g} s plus {p['bursts']} bursts of "
        f"{p['burst_rate']:g}/s for {p['burst_seconds']:g} s; {PRE_ORDER_SHARE:.0%} of them pre-orders, paid "
        f"0.3-3 s later by a PayAction delivery ({MATCH_NOTICE_SHARE:.0%} as match notices, {REPLAY_SHARE:.0%} "
        f"delivered twice, {UNPAID_SHARE:.0%} never paid); staff toggle sold-out on the three counted dishes "
        f"({p['stock']} units each) and the kitchen moves tickets on; Discord is a local fake.\n\n"
        f"{counts}\n\n{timings}\n\n{checks}\n"
    )
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start = text.find("\n## Festival peak")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + (text[end:] if end != -1 else "")
    path.write_text(text, encoding="utf-8")
    log(f"updated {path}")


if __name__ == "__main__":
    sys.exit(main())
