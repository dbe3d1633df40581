"""Order to kitchen board: from just before POST /api/orders/ to the `order.created` on the kitchen socket.

    uv run python bench/order_to_board.py                     # 20 orders/s for 15 s
    uv run python bench/order_to_board.py --rate 5 --seconds 3

One daphne process with the Redis pub/sub channel layer. A staff kitchen socket (/ws/kitchen/?token=)
is opened first; then orders are sent open-loop at --rate per second (each on its own schedule, whether
or not the previous one has been answered), 1-3 uncounted foods on a random table. Each order is matched
to its socket event by order id. With --servers 2 the socket is held by a second daphne process, so that
the event crosses processes through Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
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
from websockets.asyncio.client import connect


async def kitchen_listener(ws_url: str, token: str, arrivals: dict, kinds: tuple[str, ...], stop: asyncio.Event):
    """Timestamps (time.time()) every event of `kinds` on a kitchen socket, keyed by order id."""
    async with connect(f"{ws_url}/ws/kitchen/?token={token}", ping_interval=None, compression=None, proxy=None) as ws:
        first = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if first.get("type") != "snapshot":
            raise RuntimeError(f"kitchen socket: first message {first}")
        ready = asyncio.get_running_loop().create_future()
        arrivals["_ready"] = ready
        ready.set_result(True)
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            t = time.time()
            message = json.loads(raw)
            if message.get("type") in kinds:
                arrivals.setdefault(message["type"], {})[message["order"]["id"]] = t


async def run(args) -> dict:
    results: dict = {"benchmark": "order_to_board", "machine": machine_info(), "args": vars(args)}
    log("fresh database", args.db_name)
    results["database"] = fresh_database(args.db_name)
    env = app_env(args.db_name, prefix="bench-board")
    with Servers(env=env, count=1) as api_srv:
        socket_srv = Servers(env=env, count=1).start() if args.servers == 2 else api_srv
        try:
            token = await staff_token(api_srv.url)
            auth = {"Authorization": f"Token {token}"}
            tables = [t["id"] for t in await api(api_srv.url, "GET", "/api/tables/", headers=auth, expect=200)]
            foods = [f["id"] for f in await api(api_srv.url, "GET", "/api/foods/", expect=200) if f["stock"] is None]
            arrivals: dict = {}
            stop = asyncio.Event()
            listener = asyncio.create_task(
                kitchen_listener(socket_srv.ws_url, token, arrivals, ("order.created",), stop)
            )
            for _ in range(300):
                if "_ready" in arrivals or listener.done():
                    break
                await asyncio.sleep(0.1)
            if listener.done():
                listener.result()
            # warm-up: a few orders that are not counted
            conns = [Conn("127.0.0.1", api_srv.port) for _ in range(args.connections)]
            rng = random.Random(5)

            def body():
                items = [{"food_id": f, "quantity": rng.randint(1, 3)} for f in rng.sample(foods, rng.randint(1, 3))]
                return {"table_id": rng.choice(tables), "items": items}

            for conn in conns[:3]:
                await conn.request("POST", "/api/orders/", body())
            await asyncio.sleep(0.5)

            sent: dict[str, float] = {}
            post_latency: list[float] = []
            statuses: dict[int, int] = {}
            free: asyncio.Queue = asyncio.Queue()
            for conn in conns:
                free.put_nowait(conn)
            total = int(args.rate * args.seconds)
            load_before = load_avg()

            async def one(i: int, at: float):
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                conn = await free.get()  # a pool of keep-alive connections, like browsers' many phones
                try:
                    t0 = time.time()
                    status, data = await conn.request("POST", "/api/orders/", body())
                    t1 = time.time()
                finally:
                    free.put_nowait(conn)
                statuses[status] = statuses.get(status, 0) + 1
                if status == 201:
                    sent[json.loads(data)["id"]] = t0
                    post_latency.append(t1 - t0)

            start = time.monotonic() + 0.2
            await asyncio.wait_for(
                asyncio.gather(*(one(i, start + i / args.rate) for i in range(total))), args.seconds + 120
            )
            # the last events may still be on their way
            for _ in range(50):
                if all(order_id in arrivals.get("order.created", {}) for order_id in sent):
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.wait_for(listener, 5)
            for conn in conns:
                await conn.close()
        finally:
            if socket_srv is not api_srv:
                socket_srv.stop()
    got = arrivals.get("order.created", {})
    latency = [got[o] - t for o, t in sent.items() if o in got]
    results.update(
        {
            "orders_sent": total,
            "statuses": {str(k): v for k, v in statuses.items()},
            "post": summary_ms(post_latency),
            "to_board": summary_ms(latency),
            "missing_events": sum(1 for o in sent if o not in got),
            "load_avg_before": load_before,
            "load_avg_after": load_avg(),
        }
    )
    return results


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=20.0, help="orders per second (default 20)")
    p.add_argument("--seconds", type=float, default=15.0, help="how long to send (default 15)")
    p.add_argument("--connections", type=int, default=16, help="keep-alive client connections (default 16)")
    p.add_argument("--servers", type=int, choices=[1, 2], default=1, help="2: the kitchen socket on another process")
    p.add_argument("--db-name", default="bench_board")
    args = p.parse_args(argv)
    results = asyncio.run(run(args))
    path = write_results("order_to_board", results)
    b, q = results["to_board"], results["post"]
    print(
        f"\n{results['orders_sent']} orders at {args.rate}/s: POST->order.created on the kitchen socket "
        f"p50 {b['p50_ms']} ms p99 {b['p99_ms']} ms max {b['max_ms']} ms (aim p99 < 50 ms); "
        f"POST answered p50 {q['p50_ms']} ms p99 {q['p99_ms']} ms; missing events {results['missing_events']}; "
        f"statuses {results['statuses']}"
    )
    print(f"results: {path}")
    return results


if __name__ == "__main__":
    main()
