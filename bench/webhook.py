"""PayAction deposit webhooks: handling latency under 20 concurrent deliveries, and pre-order to paid.

    uv run python bench/webhook.py                            # M = 300 pre-orders, 20 concurrent deliveries
    uv run python bench/webhook.py --pre-orders 40 --e2e 10   # small validation run

One daphne process with the Redis pub/sub layer and PAYACTION_WEBHOOK_KEY set; a staff kitchen socket.

1. deliveries: M pending pre-orders are made (POST /api/orders/pre-order/{table}/, distinct payer names);
   then 20 workers deliver one deposit notice each for them (distinct x-trace-id) to POST
   /api/webhook/payment/ as fast as answered: webhook answer p50/p99, and from sending the webhook to the
   `order.paid` on the kitchen socket.
2. end to end: --e2e times (over 4 concurrent chains) a pre-order is made and at once paid by a deposit
   webhook; from just before the pre-order POST to `order.paid` on the kitchen socket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    Conn,
    Servers,
    api,
    app_env,
    fresh_database,
    load_avg,
    log,
    machine_info,
    staff_token,
    summary_ms,
    write_results,
)
from order_to_board import kitchen_listener

WEBHOOK_KEY = "bench-webhook-key"
KST = timezone(timedelta(hours=9))


def deposit_body(name: str, amount: int) -> dict:
    now = datetime.now(KST).isoformat(timespec="seconds")
    return {
        "transaction_type": "deposited",
        "transaction_name": name,
        "amount": amount,
        "bank_account_number": "100012345678",
        "bank_code": "089",
        "bank_account_id": "bench-account",
        "transaction_date": now,
        "processing_date": now,
        "balance": 1_000_000 + amount,
    }


async def run(args) -> dict:
    results: dict = {"benchmark": "webhook", "machine": machine_info(), "args": vars(args)}
    log("fresh database", args.db_name)
    results["database"] = fresh_database(args.db_name)
    env = app_env(args.db_name, prefix="bench-webhook", PAYACTION_WEBHOOK_KEY=WEBHOOK_KEY)
    env.pop("PAYACTION_MALL_ID", None)
    rng = random.Random(3)
    with Servers(env=env, count=1) as srv:
        token = await staff_token(srv.url)
        auth = {"Authorization": f"Token {token}"}
        tables = [t["id"] for t in await api(srv.url, "GET", "/api/tables/", headers=auth, expect=200)]
        foods = {
            f["id"]: f["price"] for f in await api(srv.url, "GET", "/api/foods/", expect=200) if f["stock"] is None
        }
        arrivals: dict = {}
        stop = asyncio.Event()
        listener = asyncio.create_task(kitchen_listener(srv.ws_url, token, arrivals, ("order.paid",), stop))
        for _ in range(300):
            if "_ready" in arrivals or listener.done():
                break
            await asyncio.sleep(0.1)
        if listener.done():
            listener.result()

        def order_body(name: str) -> dict:
            chosen = rng.sample(sorted(foods), rng.randint(1, 3))
            items = [{"food_id": f, "quantity": rng.randint(1, 3)} for f in chosen]
            total = sum(foods[i["food_id"]] * i["quantity"] for i in items)
            return {"payer_name": name, "total_amount": total, "items": items}

        async def pre_order(conn: Conn, name: str) -> tuple[dict, float]:
            body = order_body(name)
            t0 = time.time()
            status, data = await conn.request("POST", f"/api/orders/pre-order/{rng.choice(tables)}/", body)
            if status != 201:
                raise RuntimeError(f"pre-order: {status} {data[:200]!r}")
            return {**json.loads(data), "payer_name": name, "total_amount": body["total_amount"]}, t0

        async def deliver(conn: Conn, order: dict, trace: str) -> tuple[int, float, float]:
            headers = {"x-webhook-key": WEBHOOK_KEY, "x-trace-id": trace}
            t0 = time.time()
            status, _ = await conn.request(
                "POST", "/api/webhook/payment/", deposit_body(order["payer_name"], order["total_amount"]), headers
            )
            return status, t0, time.time()

        # --- 1. M pending pre-orders, then 20 concurrent deliveries ----------------------------------
        log(f"making {args.pre_orders} pending pre-orders")
        makers = [Conn("127.0.0.1", srv.port) for _ in range(8)]
        pending: list[dict] = []
        pre_order_latency: list[float] = []

        async def maker(i: int, conn: Conn):
            for j in range(i, args.pre_orders, len(makers)):
                order, t0 = await pre_order(conn, f"벤치{j:05d}")
                pre_order_latency.append(time.time() - t0)
                pending.append(order)

        await asyncio.gather(*(maker(i, c) for i, c in enumerate(makers)))
        for conn in makers:
            await conn.close()
        await asyncio.sleep(0.5)
        log(f"delivering {len(pending)} deposit notices, {args.concurrency} at once; load {load_avg()}")
        queue: asyncio.Queue = asyncio.Queue()
        for order in pending:
            queue.put_nowait(order)
        webhook_latency: list[float] = []
        sent_at: dict[str, float] = {}
        statuses: dict[int, int] = {}
        load_before = load_avg()
        t_phase = time.perf_counter()

        async def worker(w: int):
            conn = Conn("127.0.0.1", srv.port)
            try:
                while not queue.empty():
                    order = queue.get_nowait()
                    status, t0, t1 = await deliver(conn, order, f"bench-{w}-{order['order_id']}")
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:  # latencies of answered deliveries; the rest are counted in statuses
                        webhook_latency.append(t1 - t0)
                        sent_at[order["order_id"]] = t0
            finally:
                await conn.close()

        await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(args.concurrency))), 600)
        phase_seconds = time.perf_counter() - t_phase
        for _ in range(50):
            if all(o in arrivals.get("order.paid", {}) for o in sent_at):
                break
            await asyncio.sleep(0.1)
        paid = arrivals.get("order.paid", {})
        results["deliveries"] = {
            "pre_orders": len(pending),
            "pre_order_post": summary_ms(pre_order_latency),
            "concurrency": args.concurrency,
            "statuses": {str(k): v for k, v in statuses.items()},
            "webhooks_per_s": round(len(webhook_latency) / phase_seconds, 1),
            "webhook": summary_ms(webhook_latency),
            "webhook_to_paid_event": summary_ms([paid[o] - t for o, t in sent_at.items() if o in paid]),
            "missing_paid_events": sum(1 for o in sent_at if o not in paid),
            "load_avg_before": load_before,
            "load_avg_after": load_avg(),
        }
        matched = await api(srv.url, "GET", "/api/payments/?outcome=matched", headers=auth, expect=200)
        results["deliveries"]["matched_events"] = len(matched)
        d = results["deliveries"]
        log(
            f"  webhook p50 {d['webhook']['p50_ms']} p99 {d['webhook']['p99_ms']} ms, {d['webhooks_per_s']}/s; "
            f"to order.paid p50 {d['webhook_to_paid_event']['p50_ms']} p99 {d['webhook_to_paid_event']['p99_ms']} "
            f"ms; matched {d['matched_events']}, statuses {d['statuses']}"
        )

        # --- 2. end to end: pre-order, deposit webhook, order.paid -------------------------------------
        log(f"end to end: {args.e2e} pre-orders paid at once, 4 chains")
        e2e: list[float] = []
        e2e_webhook_to_paid: list[float] = []
        chain_sent: list[tuple[str, float, float]] = []

        async def chain(c: int):
            conn = Conn("127.0.0.1", srv.port)
            try:
                for j in range(c, args.e2e, 4):
                    order, t0 = await pre_order(conn, f"끝끝{j:05d}")
                    status, tw, _ = await deliver(conn, order, f"bench-e2e-{order['order_id']}")
                    if status != 200:
                        raise RuntimeError(f"webhook {status}")
                    chain_sent.append((order["order_id"], t0, tw))
                    for _ in range(100):  # wait for this order's event before the next one (bounded: 10 s)
                        if order["order_id"] in arrivals.get("order.paid", {}):
                            break
                        await asyncio.sleep(0.005 if _ < 50 else 0.2)
            finally:
                await conn.close()

        await asyncio.wait_for(asyncio.gather(*(chain(c) for c in range(4))), 600)
        paid = arrivals.get("order.paid", {})
        for order_id, t0, tw in chain_sent:
            if order_id in paid:
                e2e.append(paid[order_id] - t0)
                e2e_webhook_to_paid.append(paid[order_id] - tw)
        results["end_to_end"] = {
            "orders": len(chain_sent),
            "pre_order_to_paid_event": summary_ms(e2e),
            "webhook_to_paid_event": summary_ms(e2e_webhook_to_paid),
            "missing_paid_events": len(chain_sent) - len(e2e),
        }
        stop.set()
        await asyncio.wait_for(listener, 5)
    results["load_avg_at_end"] = load_avg()
    return results


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pre-orders", type=int, default=300, help="pending pre-orders to pay by webhook (default 300)")
    p.add_argument("--concurrency", type=int, default=20, help="concurrent webhook deliveries (default 20)")
    p.add_argument("--e2e", type=int, default=100, help="pre-order -> webhook -> order.paid chains (default 100)")
    p.add_argument("--db-name", default="bench_webhook")
    args = p.parse_args(argv)
    results = asyncio.run(run(args))
    path = write_results("webhook", results)
    d, e = results["deliveries"], results["end_to_end"]
    print(
        f"\nwebhook ({d['concurrency']} concurrent, {d['pre_orders']} deposits): p50 {d['webhook']['p50_ms']} ms "
        f"p99 {d['webhook']['p99_ms']} ms, {d['webhooks_per_s']}/s; webhook->order.paid p50 "
        f"{d['webhook_to_paid_event']['p50_ms']} p99 {d['webhook_to_paid_event']['p99_ms']} ms; "
        f"matched {d['matched_events']}/{d['pre_orders']}, missing events {d['missing_paid_events']}"
    )
    print(
        f"end to end ({e['orders']}): pre-order POST -> order.paid p50 {e['pre_order_to_paid_event']['p50_ms']} ms "
        f"p99 {e['pre_order_to_paid_event']['p99_ms']} ms; webhook->order.paid p50 "
        f"{e['webhook_to_paid_event']['p50_ms']} p99 {e['webhook_to_paid_event']['p99_ms']} ms; "
        f"missing {e['missing_paid_events']}"
    )
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
