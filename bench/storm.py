"""Reconnect storm: every phone's table socket opening again at once, as after a Wi-Fi blip or a restart.

    uv run python bench/storm.py                         # 2,000 sockets within 2 s, 2 daphne processes
    uv run python bench/storm.py --sockets 500 --over 1  # smaller
    uv run python bench/storm.py --nginx                 # the same through nginx (compose's scale profile)

Each socket is due at a point spread evenly over `--over` seconds (open loop: it is opened when due, whatever
the others do) and timed from then until its snapshot has arrived. A socket counts as dropped when its
handshake fails or it closes before its snapshot. Every snapshot's orders must equal its table's tab as
`GET /api/tables/{id}/orders/` answers afterwards. Tables are the seeded 15 plus `--tables` more, each with a
few orders so that snapshots carry a tab. Exits 1 on any drop or mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Servers, app_env, fresh_database, log, machine_info, raise_nofile, sql, summary_ms, write_results

DB = "bench_storm"


async def one_socket(url: str, due: float, result: dict) -> None:
    from websockets.asyncio.client import connect

    await asyncio.sleep(max(0.0, due - time.monotonic()))
    started = time.monotonic()
    try:
        # proxy=None: websockets would otherwise read the proxy settings from the environment for every socket
        socket = await connect(url, open_timeout=30, max_size=None, ping_interval=None, proxy=None)
        snapshot = json.loads(await asyncio.wait_for(socket.recv(), 30))
        result["seconds"] = time.monotonic() - started
        result["snapshot"] = snapshot
        result["socket"] = socket  # kept open: the phones stay connected after the storm
    except Exception as exc:
        result["error"] = type(exc).__name__


async def storm(base_ws: str, tables: list[str], sockets: int, over: float) -> list[dict]:
    results = [{"table": tables[n % len(tables)]} for n in range(sockets)]
    start = time.monotonic() + 0.5
    await asyncio.gather(
        *(
            one_socket(f"{base_ws}/ws/tables/{r['table']}/", start + over * n / sockets, r)
            for n, r in enumerate(results)
        )
    )
    for r in results:
        if "socket" in r:
            await r.pop("socket").close()
    return results


async def server_tabs(base_url: str, tables: list[str]) -> dict[str, set[str]]:
    import urllib.request

    def tab(table: str) -> set[str]:
        with urllib.request.urlopen(f"{base_url}/api/tables/{table}/orders/", timeout=10) as response:
            return {o["id"] for o in json.loads(response.read())["orders"]}

    return {table: await asyncio.to_thread(tab, table) for table in tables}


def seed(env: dict, tables: int, orders_per_table: int) -> list[str]:
    """More tables, and a few orders on each (with the ORM, in one process)."""
    import os

    os.environ.update(env)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from ordering import services
    from ordering.models import Food, Table

    for n in range(tables):
        Table.objects.get_or_create(name=f"S{n:03d}")
    foods = list(Food.objects.filter(stock__isnull=True).values_list("pk", flat=True))[:3]
    ids = [str(pk) for pk in Table.objects.values_list("pk", flat=True)]
    for table in ids:
        for n in range(orders_per_table):
            services.order_place(table_id=table, quantities={foods[n % len(foods)]: 1})
    return ids


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sockets", type=int, default=2000)
    p.add_argument("--over", type=float, default=2.0, help="seconds over which the sockets open (default 2)")
    p.add_argument("--servers", type=int, default=2)
    p.add_argument("--tables", type=int, default=285, help="tables added to the seeded 15 (default 285)")
    p.add_argument("--orders", type=int, default=3, help="orders on each table's tab (default 3)")
    p.add_argument("--nginx", action="store_true", help="the processes behind nginx, as compose's scale profile")
    args = p.parse_args(argv)
    raise_nofile(args.sockets * 2 + 200)

    log(f"fresh database {DB}")
    fresh_database(DB)
    env = app_env(DB, prefix="bench-storm", BACKGROUND_JOBS="0", LOG_LEVEL="WARNING")
    tables = seed(dict(env), args.tables, args.orders)
    log(f"{len(tables)} tables, {sql(DB, 'SELECT COUNT(*) FROM ordering_order')[0][0]} orders")

    with Servers(env=env, count=args.servers, nginx=args.nginx) as servers:
        base_ws = servers.url.replace("http://", "ws://")
        t0 = time.monotonic()
        results = asyncio.run(storm(base_ws, tables, args.sockets, args.over))
        took = time.monotonic() - t0
        tabs = asyncio.run(server_tabs(servers.url, tables))

    ok = [r for r in results if "snapshot" in r]
    errors: dict[str, int] = {}
    for r in results:
        if "error" in r:
            errors[r["error"]] = errors.get(r["error"], 0) + 1
    mismatched = sum(1 for r in ok if {o["id"] for o in r["snapshot"]["orders"]} != tabs[r["table"]])
    summary = {
        "benchmark": "storm",
        "machine": machine_info(),
        "args": vars(args),
        "sockets": args.sockets,
        "snapshots": len(ok),
        "dropped": len(results) - len(ok),
        "errors": errors,
        "mismatched": mismatched,
        "snapshot_seconds": summary_ms([r["seconds"] for r in ok]),
        "storm_seconds": round(took, 2),
    }
    write_results("storm", summary)
    print(json.dumps({k: summary[k] for k in ("snapshots", "dropped", "errors", "mismatched", "snapshot_seconds")}))
    return 0 if summary["dropped"] == 0 and mismatched == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
