"""HTTP throughput and latency on MariaDB: menu reads, table-tab reads and direct orders.

    uv run python bench/http_load.py                      # full: 15 s phases, 32 clients, 100k history
    uv run python bench/http_load.py --quick              # small validation run (a few seconds)
    uv run python bench/http_load.py --phases orders --rate 250   # orders paced at 250/s, not back to back

Builds a fresh database (bench_pub), serves the app with daphne (1 process; 2 processes sharing one
pre-bound listening socket via --fd; 2 processes with an SO_REUSEPORT socket each, also via --fd), and runs
closed-loop clients (each waits for its answer, then sends the next request) on 127.0.0.1. Every phase: a
short warm-up that is not counted, then `--duration` seconds, at most `--max-requests` requests. Then
100,000 historic orders are bulk-loaded and every phase runs again.

Phases
  menu    GET /api/foods/
  tab     GET /api/tables/{id}/orders/ (random table; each table's current tab holds --tab-orders orders)
  orders  POST /api/orders/ with 1-3 random uncounted foods (quantity 1-3) on a random table
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    APP_DIR,
    ROOT,
    Conn,
    Deadline,
    Servers,
    api,
    app_env,
    cpu_seconds,
    fresh_database,
    host_capacity,
    load_avg,
    log,
    machine_busy_seconds,
    machine_info,
    pid_of,
    sql,
    staff_token,
    summary_ms,
    write_results,
)

TARGETS = {
    "menu": {"rps": 1500, "p99_ms": 50},
    "orders": {"rps": 250, "p99_ms": 150},
}


async def closed_loop(
    url: str, clients: int, seconds: float, max_requests: int, make, warmup: float, rate: float | None = None
) -> dict:
    """`clients` connections, each sending make(rng) -> (method, path, body) back to back.

    With `rate`, paced instead: together the clients send `rate` requests/s, each on a fixed schedule
    (client i every clients/rate s, the clients staggered), and a request's latency counts from the time it
    was due, so a server that falls behind is charged for the wait (no coordinated omission).
    """
    host_port = url.split("//", 1)[1]
    host, port = host_port.split(":")
    latencies: list[float] = []
    per_client: list[list[float]] = [[] for _ in range(clients)]
    statuses: dict[int, int] = {}
    errors: list[str] = []
    counting = False
    sent = 0
    trace = [] if os.environ.get("BENCH_TRACE") else None
    t_start = 0.0

    async def client(i: int, deadline: Deadline):
        nonlocal sent
        rng = random.Random(i * 7919 + int(time.time()))
        conn = Conn(host, int(port))
        period = clients / rate if rate else 0.0
        due = time.perf_counter() + period * i / clients
        try:
            while not deadline.passed() and sent < max_requests:
                method, path, body = make(rng)
                if counting:
                    sent += 1
                if period:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    t0, due = due, due + period
                else:
                    t0 = time.perf_counter()
                try:
                    status, _ = await conn.request(method, path, body)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    if counting:
                        errors.append(repr(exc))
                    await conn.close()
                    await asyncio.sleep(0.01)
                    continue
                elapsed = time.perf_counter() - t0
                if counting:
                    statuses[status] = statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        latencies.append(elapsed)
                        per_client[i].append(elapsed)
                    if trace is not None:
                        trace.append((round(t0 - t_start, 6), i, status, round(elapsed, 6)))
        finally:
            await conn.close()

    if warmup > 0:
        await asyncio.gather(*(client(i, Deadline(warmup)) for i in range(clients)))
    counting = True
    t_start = time.perf_counter()
    cpu_start = os.times()
    deadline = Deadline(seconds)
    status_before = await db_status()
    connections_before = status_before.get("Connections")
    sampler = asyncio.create_task(db_connections_sampler(deadline))
    await asyncio.gather(*(client(i, deadline) for i in range(clients)))
    elapsed = time.perf_counter() - t_start
    if trace is not None:  # BENCH_TRACE=file: every counted request (start s, client, status, seconds)
        Path(os.environ["BENCH_TRACE"]).write_text("".join(f"{t} {c} {st} {e}\n" for t, c, st, e in trace))
    cpu_end = os.times()
    db_threads = await sampler
    status_after = await db_status()
    connections_after = status_after.get("Connections")
    lock = {
        k: status_after[k] - status_before[k]
        for k in ("Innodb_row_lock_waits", "Innodb_row_lock_time")
        if k in status_before and k in status_after
    }
    ok = len(latencies)
    # Each connection stays on one server process: with several, the spread shows how unevenly the
    # kernel spread the clients (a busier process answers its clients more slowly).
    client_means = [1000 * sum(v) / len(v) for v in per_client if v]
    return {
        "seconds": round(elapsed, 2),
        "requests": sent,
        "ok": ok,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(errors),
        "error_sample": errors[:3],
        "rps": round(ok / elapsed, 1),
        **summary_ms(latencies),
        "client_mean_ms_min": round(min(client_means), 1) if client_means else None,
        "client_mean_ms_max": round(max(client_means), 1) if client_means else None,
        "client_cpu_s": round((cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system), 2),
        "mariadb_threads_connected_max": max(db_threads, default=None),
        # InnoDB row-lock waits during the phase and the milliseconds spent waiting (server-wide)
        "mariadb_row_lock_waits": lock.get("Innodb_row_lock_waits"),
        "mariadb_row_lock_wait_ms": lock.get("Innodb_row_lock_time"),
        # MariaDB's Connections counter (server-wide) over the phase, per request answered
        "mariadb_new_connections_per_request": (
            round((connections_after - connections_before) / max(ok, 1), 2)
            if connections_before is not None and connections_after is not None
            else None
        ),
    }


async def db_status() -> dict[str, int]:
    """A few of MariaDB's global counters (server-wide: other users of the server count too)."""
    names = ("Connections", "Innodb_row_lock_waits", "Innodb_row_lock_time")
    try:
        rows = await asyncio.to_thread(sql, "", "SHOW GLOBAL STATUS WHERE Variable_name IN (%s, %s, %s)", names)
        return {name: int(value) for name, value in rows}
    except Exception:
        return {}


async def db_connections_sampler(deadline: Deadline) -> list[int]:
    """MariaDB's Threads_connected (server-wide: other users count too) every 0.5 s during a phase."""
    samples: list[int] = []
    while not deadline.passed() and len(samples) < 1000:
        try:
            rows = await asyncio.to_thread(sql, "", "SHOW GLOBAL STATUS LIKE 'Threads_connected'")
            samples.append(int(rows[0][1]))
        except Exception:  # a full server refuses us too; that is what the statuses show
            pass
        await asyncio.sleep(min(0.5, deadline.left()))
    return samples


async def reset_tabs(url: str, token: str, tables: list[str]) -> None:
    for table_id in tables:
        await api(url, "DELETE", f"/api/tables/{table_id}/orders/reset/", headers={"Authorization": f"Token {token}"})


async def fill_tabs(url: str, tables: list[str], foods: list[int], per_table: int) -> None:
    rng = random.Random(11)
    conn = Conn("127.0.0.1", int(url.rsplit(":", 1)[1]))
    try:
        for table_id in tables:
            for _ in range(per_table):
                items = [{"food_id": f, "quantity": rng.randint(1, 3)} for f in rng.sample(foods, rng.randint(1, 3))]
                status, data = await conn.request("POST", "/api/orders/", {"table_id": table_id, "items": items})
                if status != 201:
                    raise RuntimeError(f"fill_tabs: {status} {data[:200]!r}")
    finally:
        await conn.close()


LISTEN = {"": "shared socket", "rp": "reuseport", "ng": "nginx"}


def parse_spec(spec: str) -> tuple[int, str]:
    """'2': 2 processes sharing one socket; '2rp': an SO_REUSEPORT socket each; '2ng': behind nginx."""
    count = spec.rstrip("rpng")
    return int(count), LISTEN[spec[len(count) :]]


async def run_config(env: dict, spec: str, args, tables: list[str], foods: list[int]) -> dict:
    """Every phase against fresh daphne processes (see parse_spec)."""
    servers, listen = parse_spec(spec)
    out: dict = {"servers": servers, "spec": spec, "listen": listen}
    with Servers(env=env, count=servers, reuseport=listen == "reuseport", nginx=listen == "nginx") as srv:
        url = srv.url
        token = await staff_token(url)
        cpu0 = {pid: cpu_seconds(pid) for pid in srv.pids}

        def menu(rng):
            return "GET", "/api/foods/", None

        def tab(rng):
            return "GET", f"/api/tables/{rng.choice(tables)}/orders/", None

        def order(rng):
            items = [{"food_id": f, "quantity": rng.randint(1, 3)} for f in rng.sample(foods, rng.randint(1, 3))]
            return "POST", "/api/orders/", {"table_id": rng.choice(tables), "items": items}

        await reset_tabs(url, token, tables)
        await fill_tabs(url, tables, foods, args.tab_orders)
        for name, make in (("menu", menu), ("tab", tab), ("orders", order)):
            if name not in args.phases:
                continue
            log(f"  {servers} server(s) ({out['listen']}): {name} for {args.duration}s, {args.clients} clients")
            load_before = load_avg()
            capacity = host_capacity()
            cpu_a = {pid: cpu_seconds(pid) for pid in srv.pids}
            db_pid = pid_of("mariadbd", "mysqld")
            db_a = cpu_seconds(db_pid) if db_pid else 0.0
            busy_a, t_a, me_a = machine_busy_seconds(), time.monotonic(), os.times()
            rate = args.rate if name == "orders" else None
            result = await closed_loop(url, args.clients, args.duration, args.max_requests, make, args.warmup, rate)
            busy_b, t_b, me_b = machine_busy_seconds(), time.monotonic(), os.times()
            me = (me_b.user - me_a.user) + (me_b.system - me_a.system)
            db_cpu = (cpu_seconds(db_pid) - db_a) if db_pid else 0.0
            cpu_b = {pid: cpu_seconds(pid) for pid in srv.pids}
            result["server_cpu_s"] = [round(cpu_b[p] - cpu_a[p], 2) for p in srv.pids]
            # how busy the 2 cores were (warm-up included) and how much of that was not the servers or client
            result["machine_busy_cores"] = round((busy_b - busy_a) / (t_b - t_a), 2)
            result["mariadb_cores"] = round(db_cpu / (t_b - t_a), 2)  # the server is shared with others' tests
            result["busy_cores_others"] = round(
                (busy_b - busy_a - sum(result["server_cpu_s"]) - me - db_cpu) / (t_b - t_a), 2
            )
            result["load_avg_before"] = load_before
            result["host_capacity"] = capacity
            # server CPU per answered request, warm-up included in both (the phase's requests over its seconds)
            result["server_cpu_ms_per_request"] = round(
                1000 * sum(result["server_cpu_s"]) / max(result["rps"] * (t_b - t_a), 1), 2
            )
            result["load_avg_after"] = load_avg()
            out[name] = result
            log(
                f"    {name}: {result['rps']}/s p50 {result['p50_ms']} ms p99 {result['p99_ms']} ms "
                f"client means {result['client_mean_ms_min']}-{result['client_mean_ms_max']} ms "
                f"server cpu/request {result['server_cpu_ms_per_request']} ms host capacity {capacity} "
                f"statuses {result['statuses']} errors {result['errors']} "
                f"server cpu {result['server_cpu_s']} client cpu {result['client_cpu_s']} "
                f"db conns max {result['mariadb_threads_connected_max']} "
                f"new db conns/request {result['mariadb_new_connections_per_request']} "
                f"row lock waits {result['mariadb_row_lock_waits']} ({result['mariadb_row_lock_wait_ms']} ms) "
                f"machine busy {result['machine_busy_cores']} cores (mariadb {result['mariadb_cores']}, "
                f"others {result['busy_cores_others']})"
            )
        # the order phase filled the tabs: archive them so that the next configuration starts alike
        await reset_tabs(url, token, tables)
        out["server_cpu_total_s"] = [round(cpu_seconds(p) - cpu0[p], 2) for p in srv.pids]
    return out


def load_history(env: dict, count: int) -> dict:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "seed_history.py"), str(count)],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"seed_history failed:\n{proc.stdout}\n{proc.stderr}")
    return {"orders": count, "seconds": round(time.monotonic() - t0, 1)}


def table_counts(db: str) -> dict:
    rows = sql(db, "SELECT COUNT(*), SUM(archived_at IS NULL) FROM ordering_order")
    items = sql(db, "SELECT COUNT(*) FROM ordering_orderitem")
    return {"orders": int(rows[0][0]), "unarchived": int(rows[0][1] or 0), "order_items": int(items[0][0])}


async def main_async(args) -> dict:
    results: dict = {"benchmark": "http_load", "machine": machine_info(), "args": vars(args)}
    log("fresh database", args.db_name)
    results["database"] = fresh_database(args.db_name)
    env = app_env(args.db_name, prefix="bench-http")
    if args.conn_max_age is None:
        env.pop("CONN_MAX_AGE", None)  # the app's own default
    else:
        env["CONN_MAX_AGE"] = str(args.conn_max_age)
    # table ids and uncounted foods, read once through the API
    with Servers(env=env, count=1) as srv:
        foods = await api(srv.url, "GET", "/api/foods/", expect=200)
        token = await staff_token(srv.url)
        tables = await api(srv.url, "GET", "/api/tables/", headers={"Authorization": f"Token {token}"}, expect=200)
    uncounted = [f["id"] for f in foods if f["stock"] is None and not f["sold_out"]]
    table_ids = [t["id"] for t in tables]
    results["menu_items"] = len(foods)
    results["menu_bytes"] = len(json.dumps(foods, ensure_ascii=False).encode())
    results["uncounted_foods"] = uncounted
    server_specs = [s.strip() for s in args.servers.split(",") if s.strip()]

    results["before"] = {"rows": table_counts(args.db_name)}
    for spec in server_specs:
        results["before"][f"servers_{spec}"] = await run_config(env, spec, args, table_ids, uncounted)

    if args.history > 0:
        log(f"loading {args.history} historic orders")
        results["history"] = load_history(env, args.history)
        log(f"  loaded in {results['history']['seconds']}s")
        results["after"] = {"rows": table_counts(args.db_name)}
        for spec in server_specs:
            results["after"][f"servers_{spec}"] = await run_config(env, spec, args, table_ids, uncounted)
        results["after"]["rows_at_end"] = table_counts(args.db_name)
    results["machine"]["load_avg_at_end"] = load_avg()
    return results


def print_table(results: dict) -> None:
    print()
    print(f"{'when':<8} {'procs':>5} {'phase':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  target")
    for when in ("before", "after"):
        for key, run in results.get(when, {}).items():
            if not key.startswith("servers_"):
                continue
            for phase in ("menu", "tab", "orders"):
                if phase not in run:  # left out by --phases
                    continue
                r = run[phase]
                t = TARGETS.get(phase)
                verdict = ""
                if t:
                    ok = r["rps"] >= t["rps"] and (r["p99_ms"] or 1e9) < t["p99_ms"]
                    verdict = f">= {t['rps']}/s, p99 < {t['p99_ms']} ms: {'met' if ok else 'NOT met'}"
                print(
                    f"{when:<8} {run.get('spec', run['servers'])!s:>5} {phase:<7} {r['rps']:>8} {r['p50_ms']!s:>8} "
                    f"{r['p99_ms']!s:>8} {r['max_ms']!s:>8}  {verdict}"
                )


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=15.0, help="seconds measured per phase (default 15)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of uncounted warm-up per phase")
    p.add_argument("--clients", type=int, default=32, help="concurrent closed-loop clients (default 32)")
    p.add_argument(
        "--rate",
        type=float,
        help="orders phase paced at this many requests/s in all (latency from each request's due time) "
        "instead of back to back",
    )
    p.add_argument("--max-requests", type=int, default=200_000, help="cap of requests per phase")
    p.add_argument(
        "--servers",
        default="1,2,2rp",
        help="daphne configurations: N processes sharing one socket, Nrp with an SO_REUSEPORT socket each, "
        "or Nng behind nginx (default 1,2,2rp)",
    )
    p.add_argument("--history", type=int, default=100_000, help="historic orders to load (0: skip)")
    p.add_argument(
        "--phases",
        type=lambda v: v.split(","),
        default=["menu", "tab", "orders"],
        help="comma-separated phases to run (default menu,tab,orders)",
    )
    p.add_argument("--tab-orders", type=int, default=8, help="orders on each table's current tab (default 8)")
    p.add_argument("--db-name", default="bench_pub")
    p.add_argument(
        "--conn-max-age",
        type=int,
        default=-1,
        help="CONN_MAX_AGE for the served processes (default -1: the app's own, persistent connections on "
        "SYNC_THREADS long-lived threads per process).",
    )
    p.add_argument("--quick", action="store_true", help="validation run: 3 s phases, 2,000 historic orders")
    args = p.parse_args(argv)
    if args.conn_max_age is not None and args.conn_max_age < 0:
        args.conn_max_age = None
    if args.quick:
        args.duration, args.warmup, args.history = 3.0, 0.5, 2000
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    results = asyncio.run(main_async(args))
    path = write_results("http_load", results)
    print_table(results)
    print(f"\nresults: {path}")
    return results


if __name__ == "__main__":
    main()
