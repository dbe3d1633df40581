"""Where one daphne process spends its time on one request path, sampled with py-spy under load.

    uv run python bench/profile_http.py                       # GET /api/foods/, 10 s, 32 clients
    uv run python bench/profile_http.py --path orders         # POST /api/orders/

Uses the bench database left by http_load.py (or makes a fresh one with --fresh). py-spy runs through
`uvx py-spy` (PyPI) unless a `py-spy` is on PATH; it samples every thread of the daphne process, including
the per-request worker threads where Django's sync code runs. Prints the top frames by inclusive and by self
time and writes the folded stacks next to the results (bench/results/), for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, Servers, api, app_env, fresh_database, load_avg, log, machine_info, write_results
from http_load import closed_loop


def py_spy_cmd() -> list[str]:
    if shutil.which("py-spy"):
        return ["py-spy"]
    if shutil.which("uvx"):
        return ["uvx", "py-spy"]
    sys.exit("py-spy not found: install it with `uv tool install py-spy` (or `uvx` must be on PATH)")


def summarize(folded: str, top: int) -> dict:
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in folded.splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue  # py-spy now and then writes a torn line when a thread exits mid-sample
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n

    def rows(counter, key="frame"):
        return [{key: f, "samples": c, "pct": round(100.0 * c / max(total, 1), 1)} for f, c in counter.most_common(top)]

    packages: collections.Counter = collections.Counter()
    for frame, n in own.items():
        packages[package_of(frame)] += n
    return {
        "samples": total,
        "inclusive": rows(inclusive),
        "self": rows(own),
        "self_by_package": rows(packages, "package"),
    }


def package_of(frame: str) -> str:
    """'func (django/db/models/query.py:12)' -> 'django.db'; 'f (threading.py:3)' -> 'threading'."""
    if "(" not in frame:
        return "(native/unknown)"
    path = frame.rsplit("(", 1)[1].split(":", 1)[0]
    parts = [p for p in path.replace(".py", "").split("/") if p and not p.startswith("<")]
    if not parts:
        return "(frozen)"
    if parts[0] == "django" and len(parts) > 1:
        return "django." + parts[1]
    if parts[0] == "concurrent":
        return "concurrent.futures"
    return parts[0]


async def drive(url: str, path: str, seconds: float, clients: int, tables, foods) -> dict:
    def make(rng: random.Random):
        if path == "orders":
            items = [{"food_id": f, "quantity": rng.randint(1, 3)} for f in rng.sample(foods, rng.randint(1, 3))]
            return "POST", "/api/orders/", {"table_id": rng.choice(tables), "items": items}
        if path == "tab":
            return "GET", f"/api/tables/{rng.choice(tables)}/orders/", None
        return "GET", "/api/foods/", None

    return await closed_loop(url, clients, seconds, 500_000, make, warmup=1.0)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", choices=["menu", "tab", "orders"], default="menu")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--top", type=int, default=30)
    p.add_argument(
        "--all-threads",
        dest="gil",
        action="store_false",
        help="sample every running thread (default: only the thread holding the GIL, i.e. where the CPU goes)",
    )
    p.add_argument("--db-name", default="bench_pub")
    p.add_argument("--fresh", action="store_true", help="make a fresh bench database first")
    p.add_argument(
        "--conn-max-age", type=int, default=None, help="CONN_MAX_AGE for the served process (default: the app's own)"
    )
    args = p.parse_args(argv)
    if args.fresh:
        fresh_database(args.db_name)
    extra = {} if args.conn_max_age is None else {"CONN_MAX_AGE": str(args.conn_max_age)}
    env = app_env(args.db_name, prefix="bench-profile", **extra)
    RESULTS.mkdir(parents=True, exist_ok=True)
    folded_path = RESULTS / f"profile-{args.path}-{time.strftime('%Y%m%d-%H%M%S')}.folded"
    results: dict = {"benchmark": "profile_http", "machine": machine_info(), "args": vars(args)}
    with Servers(env=env, count=1) as srv:
        foods = [f["id"] for f in asyncio.run(api(srv.url, "GET", "/api/foods/", expect=200)) if f["stock"] is None]
        tables = asyncio.run(_tables(srv.url))
        spy = subprocess.Popen(
            [
                *py_spy_cmd(),
                "record",
                "--pid",
                str(srv.pids[0]),
                "--rate",
                str(args.rate),
                "--duration",
                str(int(args.seconds)),
                "--format",
                "raw",
                "--nonblocking",
                *(["--gil"] if args.gil else []),
                "--output",
                str(folded_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(1.0)  # py-spy attaches
        log(f"profiling {args.path} for {args.seconds}s")
        results["load"] = asyncio.run(drive(srv.url, args.path, args.seconds, args.clients, tables, foods))
        try:
            out, _ = spy.communicate(timeout=args.seconds + 60)
        except subprocess.TimeoutExpired:
            spy.kill()
            out, _ = spy.communicate()
        results["py_spy_output"] = out[-2000:]
    results["load_avg_at_end"] = load_avg()
    if folded_path.exists():
        results["folded_stacks"] = str(folded_path)
        results["profile"] = summarize(folded_path.read_text(), args.top)
    path = write_results(f"profile-{args.path}", results)
    r = results["load"]
    print(f"\nload: {r['rps']}/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms (under py-spy)")
    prof = results.get("profile")
    if prof:
        scope = "GIL holder" if args.gil else "every running thread"
        print(f"\n{prof['samples']} samples ({scope}); top by inclusive time:")
        for row in prof["inclusive"]:
            print(f"  {row['pct']:5.1f}%  {row['frame']}")
        print("\ntop by self time:")
        for row in prof["self"]:
            print(f"  {row['pct']:5.1f}%  {row['frame']}")
        print("\nself time by package:")
        for row in prof["self_by_package"]:
            print(f"  {row['pct']:5.1f}%  {row['package']}")
    else:
        print(results["py_spy_output"])
    print(f"\nresults: {path}")
    return results


async def _tables(url: str) -> list[str]:
    from common import staff_token

    token = await staff_token(url)
    rows = await api(url, "GET", "/api/tables/", headers={"Authorization": f"Token {token}"}, expect=200)
    return [t["id"] for t in rows]


if __name__ == "__main__":
    main()
