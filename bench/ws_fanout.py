"""WebSocket fan-out: how long until every open table tab has a `food.updated`, against a bare floor.

    uv run python bench/ws_fanout.py                          # N = 1000 and 5000, 10 rounds each
    uv run python bench/ws_fanout.py --sockets 200 --rounds 3 # small validation run

For each N: one daphne process with the Redis pub/sub channel layer; N table-tab sockets
(/ws/tables/{id}/ over the 15 tables) held by client processes of their own (--client-procs, default 2);
then, --rounds times, a staff PATCH /api/foods/{id}/ flips the food's sold_out (and sets its price to the
round number, which tells the rounds apart), and the clients timestamp (time.time(), same machine) the
arrival of the `food.updated` on every socket. Latency is measured from just before the PATCH is sent
(and also from its response). Memory per socket: the daphne process's RSS before and after opening the N
sockets, divided by N.

The floor, in the same run: bench/floor_server.py (a bare `websockets` server, one Redis subscription,
each published message forwarded to every socket) with the same N clients; the same-sized food.updated
JSON is published on Redis, timed from just before PUBLISH. The ratios ours/floor are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH,
    REDIS_URL,
    Servers,
    api,
    app_env,
    free_port,
    fresh_database,
    load_avg,
    log,
    machine_info,
    raise_nofile,
    rss_kib,
    staff_token,
    summary_ms,
    write_results,
)

ROUND_TIMEOUT = 20.0
PRICE_BASE = 31000  # round k sets the price to PRICE_BASE + k (same number of digits every round)


class ClientPool:
    """`procs` ws_clients.py processes sharing `urls` between them."""

    def __init__(self, urls: list[str], procs: int, concurrency: int):
        self.urls, self.procs_n, self.concurrency = urls, procs, concurrency
        self.procs: list[asyncio.subprocess.Process] = []
        self.files: list[str] = []
        self.ready: list[dict] = []
        self.round_events: asyncio.Queue = asyncio.Queue()

    async def start(self, timeout: float) -> dict:
        chunks = [self.urls[i :: self.procs_n] for i in range(self.procs_n)]
        for chunk in chunks:
            fd, path = tempfile.mkstemp(prefix="bench-ws-urls-", suffix=".txt")
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(chunk))
            self.files.append(path)
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(BENCH / "ws_clients.py"),
                "--urls-file",
                path,
                "--concurrency",
                str(self.concurrency),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**27,
            )
            self.procs.append(proc)
        t0 = time.monotonic()
        for proc in self.procs:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout)
            self.ready.append(json.loads(line))
        self.readers = [asyncio.create_task(self._read(p)) for p in self.procs]
        return {
            "open": sum(r["open"] for r in self.ready),
            "failed": sum(r["failed"] for r in self.ready),
            "errors": [e for r in self.ready for e in r.get("errors", [])][:5],
            "seconds": round(time.monotonic() - t0, 1),
        }

    async def _read(self, proc):
        while True:
            line = await proc.stdout.readline()
            if not line:
                return
            event = json.loads(line)
            await self.round_events.put(event)
            if event["event"] == "dump":
                return

    async def wait_round(self, key: int, timeout: float) -> bool:
        """True when every client process has reported round `key` complete."""
        done = 0
        deadline = time.monotonic() + timeout
        while done < len(self.procs):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                event = await asyncio.wait_for(self.round_events.get(), left)
            except TimeoutError:
                return False
            if event["event"] == "round" and event["key"] == key:
                done += 1
        return True

    async def dump(self) -> dict[int, list[float]]:
        for proc in self.procs:
            proc.stdin.write(b"dump\n")
            await proc.stdin.drain()
        merged: dict[int, list[float]] = {}
        got = 0
        deadline = time.monotonic() + 60
        while got < len(self.procs) and time.monotonic() < deadline:
            try:
                event = await asyncio.wait_for(self.round_events.get(), deadline - time.monotonic())
            except TimeoutError:
                break
            if event["event"] != "dump":
                continue
            got += 1
            for key, times in event["recv"].items():
                merged.setdefault(int(key), []).extend(times)
        return merged

    async def stop(self) -> None:
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for path in self.files:
            Path(path).unlink(missing_ok=True)


def round_stats(sent: dict[int, tuple[float, float]], recv: dict[int, list[float]], expected: int) -> dict:
    """Per-socket latencies over all rounds, from before the send and from its response; missing counts."""
    from_send, from_response, per_round = [], [], []
    missing = 0
    for key, (t_send, t_resp) in sorted(sent.items()):
        times = recv.get(key, [])
        missing += max(0, expected - len(times))
        from_send += [t - t_send for t in times]
        from_response += [t - t_resp for t in times]
        if times:
            per_round.append(
                {
                    "key": key,
                    "received": len(times),
                    "first_ms": round((min(times) - t_send) * 1000, 1),
                    "last_ms": round((max(times) - t_send) * 1000, 1),
                }
            )
    return {
        "from_send": summary_ms(from_send),
        "from_response": summary_ms(from_response),
        "all_delivered_ms": summary_ms([r["last_ms"] / 1000 for r in per_round]),
        "missing": missing,
        "rounds": per_round,
    }


async def run_ours(n: int, rounds: int, args, env: dict) -> dict:
    with Servers(env=env, count=1) as srv:
        pid = srv.pids[0]
        token = await staff_token(srv.url)
        auth = {"Authorization": f"Token {token}"}
        tables = [t["id"] for t in await api(srv.url, "GET", "/api/tables/", headers=auth, expect=200)]
        foods = await api(srv.url, "GET", "/api/foods/", expect=200)
        food = next(f for f in foods if f["category"] == "drinks" and f["stock"] is None)
        original = {"sold_out": food["sold_out"], "price": food["price"]}
        # warm the process up (imports, first queries, the Redis connection) before the baseline RSS
        pool = ClientPool([f"{srv.ws_url}/ws/tables/{tables[0]}/"] * 5, 1, 5)
        await pool.start(60)
        await pool.dump()
        await pool.stop()
        await asyncio.sleep(1.0)
        rss_before = rss_kib(pid)
        urls = [f"{srv.ws_url}/ws/tables/{tables[i % len(tables)]}/" for i in range(n)]
        log(f"  ours: opening {n} sockets over {args.client_procs} client processes")
        pool = ClientPool(urls, args.client_procs, args.connect_concurrency)
        opened = await pool.start(timeout=max(120.0, n * 0.1))
        await asyncio.sleep(1.0)
        rss_after = rss_kib(pid)
        log(f"  ours: {opened['open']} open, {opened['failed']} failed in {opened['seconds']}s; RSS {rss_after} KiB")
        sent: dict[int, tuple[float, float]] = {}
        complete = 0
        patch_ms = []
        spy = start_profile(pid, n) if args.profile else None
        for k in range(rounds):
            key = PRICE_BASE + k
            body = {"sold_out": k % 2 == 0, "price": key}
            t_send = time.time()
            await api(srv.url, "PATCH", f"/api/foods/{food['id']}/", body, headers=auth, expect=200)
            t_resp = time.time()
            patch_ms.append(t_resp - t_send)
            sent[key] = (t_send, t_resp)
            complete += await pool.wait_round(key, ROUND_TIMEOUT)
            await asyncio.sleep(args.gap)
        profile = stop_profile(spy) if spy else None
        recv = await pool.dump()
        await pool.stop()
        await api(srv.url, "PATCH", f"/api/foods/{food['id']}/", original, headers=auth, expect=200)
        stats = round_stats(sent, recv, opened["open"])
        return {
            "profile": profile,
            "sockets": opened,
            "rss_kib_before": rss_before,
            "rss_kib_after": rss_after,
            "rss_kib_per_socket": round((rss_after - rss_before) / max(opened["open"], 1), 1),
            "rounds_complete": complete,
            "patch": summary_ms(patch_ms),
            **stats,
        }


async def sample_payload(env: dict) -> str:
    """A food.updated exactly as the app sends it (fields, sizes), its price set per round later."""
    with Servers(env=env, count=1) as srv:
        foods = await api(srv.url, "GET", "/api/foods/", expect=200)
    food = next(f for f in foods if f["category"] == "drinks" and f["stock"] is None)
    return json.dumps(
        {"type": "food.updated", "food": {**food, "price": PRICE_BASE}, "ts": "2026-01-01T00:00:00.000+09:00"}
    )


async def run_floor(n: int, rounds: int, args, template: str) -> dict:
    import redis.asyncio as aioredis

    port = free_port()
    channel = f"bench-floor-{port}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH / "floor_server.py"),
        "--port",
        str(port),
        "--redis-url",
        REDIS_URL,
        "--channel",
        channel,
        stdout=asyncio.subprocess.PIPE,
    )
    client = aioredis.from_url(REDIS_URL)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if not line.startswith(b"READY"):
            raise RuntimeError(f"floor server: {line!r}")
        pool = ClientPool([f"ws://127.0.0.1:{port}/"] * 5, 1, 5)
        await pool.start(60)
        await pool.dump()
        await pool.stop()
        await asyncio.sleep(1.0)
        rss_before = rss_kib(proc.pid)
        log(f"  floor: opening {n} sockets")
        pool = ClientPool([f"ws://127.0.0.1:{port}/"] * n, args.client_procs, args.connect_concurrency)
        opened = await pool.start(timeout=max(120.0, n * 0.1))
        await asyncio.sleep(1.0)
        rss_after = rss_kib(proc.pid)
        sent: dict[int, tuple[float, float]] = {}
        complete = 0
        base = json.loads(template)
        for k in range(rounds):
            key = PRICE_BASE + k
            message = {**base, "food": {**base["food"], "price": key, "sold_out": k % 2 == 0}}
            message["ts"] = time.strftime("%Y-%m-%dT%H:%M:%S.000+09:00")
            payload = json.dumps(message)
            t_send = time.time()
            await client.publish(channel, payload)
            t_resp = time.time()
            sent[key] = (t_send, t_resp)
            complete += await pool.wait_round(key, ROUND_TIMEOUT)
            await asyncio.sleep(args.gap)
        recv = await pool.dump()
        await pool.stop()
        return {
            "sockets": opened,
            "payload_bytes": len(payload.encode()),
            "rss_kib_before": rss_before,
            "rss_kib_after": rss_after,
            "rss_kib_per_socket": round((rss_after - rss_before) / max(opened["open"], 1), 1),
            "rounds_complete": complete,
            **round_stats(sent, recv, opened["open"]),
        }
    finally:
        await client.aclose()
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def start_profile(pid: int, n: int):
    """py-spy (GIL holder only) on the daphne process for the rounds; see profile_http.py."""
    import subprocess

    from common import RESULTS
    from profile_http import py_spy_cmd

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"profile-ws-fanout-{n}-{time.strftime('%Y%m%d-%H%M%S')}.folded"
    cmd = [*py_spy_cmd(), "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--gil"]
    proc = subprocess.Popen(
        [*cmd, "--nonblocking", "--output", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    time.sleep(1.5)  # attached
    return proc, path


def stop_profile(spy) -> dict | None:
    import signal

    from profile_http import summarize

    proc, path = spy
    proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
    try:
        proc.wait(30)
    except Exception:
        proc.kill()
    if not path.exists():
        return None
    summary = summarize(path.read_text(), 25)
    return {"folded_stacks": str(path), **summary}


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


async def main_async(args) -> dict:
    nofile = raise_nofile(max(args_sizes(args)) + 1024)
    results: dict = {"benchmark": "ws_fanout", "machine": machine_info(), "args": vars(args), "nofile": nofile}
    log("fresh database", args.db_name)
    results["database"] = fresh_database(args.db_name)
    env = app_env(args.db_name, prefix="bench-ws")
    template = await sample_payload(env)
    results["payload_bytes"] = len(template.encode())
    results["runs"] = {}
    for n in args_sizes(args):
        log(f"N = {n}: load {load_avg()}")
        run = {"load_avg_before": load_avg()}
        run["ours"] = await run_ours(n, args.rounds, args, env)
        run["floor"] = await run_floor(n, args.rounds, args, template)
        run["load_avg_after"] = load_avg()
        ours, floor = run["ours"]["from_send"], run["floor"]["from_send"]
        run["ratio_ours_over_floor"] = {
            k: ratio(ours[k], floor[k]) for k in ("p50_ms", "p99_ms", "max_ms") if k in ours and k in floor
        }
        results["runs"][str(n)] = run
        log(
            f"  N={n}: ours p50 {ours['p50_ms']} p99 {ours['p99_ms']} max {ours['max_ms']} ms "
            f"(missing {run['ours']['missing']}), floor p50 {floor['p50_ms']} p99 {floor['p99_ms']} "
            f"max {floor['max_ms']} ms (missing {run['floor']['missing']}); ratio {run['ratio_ours_over_floor']}; "
            f"RSS/socket ours {run['ours']['rss_kib_per_socket']} KiB floor {run['floor']['rss_kib_per_socket']} KiB"
        )
    results["machine"]["load_avg_at_end"] = load_avg()
    return results


def args_sizes(args) -> list[int]:
    return [int(s) for s in str(args.sockets).split(",") if s]


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sockets", default="1000,5000", help="socket counts N, comma-separated (default 1000,5000)")
    p.add_argument("--rounds", type=int, default=10, help="PATCHes (or publishes) per N (default 10)")
    p.add_argument("--gap", type=float, default=0.5, help="seconds between rounds once a round is delivered")
    p.add_argument("--client-procs", type=int, default=2, help="client processes holding the sockets")
    p.add_argument("--connect-concurrency", type=int, default=50, help="sockets opened at once per client process")
    p.add_argument("--db-name", default="bench_ws")
    p.add_argument("--profile", action="store_true", help="py-spy the daphne process during the rounds (uvx)")
    args = p.parse_args(argv)
    results = asyncio.run(main_async(args))
    path = write_results("ws_fanout", results)
    print()
    print(f"{'N':>6} {'server':<6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'missing':>8} {'KiB/socket':>11}")
    for n, run in results["runs"].items():
        for who in ("ours", "floor"):
            r = run[who]
            s = r["from_send"]
            print(
                f"{n:>6} {who:<6} {s['p50_ms']!s:>8} {s['p99_ms']!s:>8} {s['max_ms']!s:>8} "
                f"{r['missing']:>8} {r['rss_kib_per_socket']:>11}"
            )
        print(f"{n:>6} ratio  {run['ratio_ours_over_floor']}")
    for n, run in results["runs"].items():
        prof = run["ours"].get("profile")
        if prof:
            print(f"\nN={n}: py-spy of daphne during the rounds, {prof['samples']} samples, top by inclusive time:")
            for row in prof["inclusive"]:
                print(f"  {row['pct']:5.1f}%  {row['frame']}")
            print("top by self time:")
            for row in prof["self"][:15]:
                print(f"  {row['pct']:5.1f}%  {row['frame']}")
    print(f"\nresults: {path}")
    return results


if __name__ == "__main__":
    main()
