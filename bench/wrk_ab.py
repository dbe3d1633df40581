"""A/B throughput and latency of two app trees under wrk: menu reads and direct orders.

    uv run python bench/wrk_ab.py --a /work/pub-before --b /work/main
    uv run python bench/wrk_ab.py --a /work/pub-before --b /work/main --rounds 5 --duration 10 --phases orders

Each tree (a checkout or git worktree of this repository, with a .venv of its own: `uv sync --frozen
--extra mysql` is run in a tree that has none) is served by `uv run --frozen --extra mysql daphne -b 127.0.0.1
-p PORT config.asgi:application` started in that tree: one process, the contract's single process
(`--servers N`: N processes sharing one pre-bound socket through `daphne --fd`).

A and B alternate: round 1 A then B, round 2 B then A, and so on (ABBA), so that a slow drift of the host
is charged to both sides alike. Every turn of a side starts from a fresh database `bench_wrk` (dropped,
created, then `manage.py migrate`, `seed_data`, `seed_tables` run in that tree, so each side gets its own
migrations), then a fresh server; it waits for /healthz to answer 200, then runs each phase: a 2 s warm-up
wrk run (not counted), `host_capacity()` on the then idle machine, and a `--duration` s measured wrk run
with `--latency`. The server's process group is killed at the end of the turn, always.

Phases
  menu    wrk GET /api/foods/
  orders  wrk -s bench/wrk_orders.lua: POST /api/orders/ of 1-3 distinct random uncounted foods (stock NULL,
          not sold out), quantity 1-3, on a random table; the Lua script counts every non-2xx answer.
          Both sides get the same request sequence (the seed depends on the round only). Afterwards the
          orders in the database are counted against the 2xx answers. `--keys`: each order carries a new
          `Idempotency-Key`, as the customer's page sends it.

Rates: wrk's Requests/sec counts every answer; the B/A ratios use the 2xx answers per second (the same
when there were no errors). p50/p99 are wrk's latency distribution (all answers; no coordinated-omission
correction: wrk is closed loop, each connection sends its next request when the last one is answered).
A run with non-2xx answers or socket errors is flagged in the tables, and the script exits with status 1.
wrk and the server share this machine's cores: compare the sides, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    BENCH,
    Deadline,
    app_env,
    cpu_seconds,
    free_port,
    host_capacity,
    load_avg,
    log,
    machine_info,
    mysql_available,
    sql,
    wait_healthy,
    write_results,
)

DB_NAME = "bench_wrk"
PREFIX = "bench-wrk"
LUA_ORDERS = BENCH / "wrk_orders.lua"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
UV = os.environ.get("UV") or shutil.which("uv") or "uv"
PHASES = ("menu", "orders")
PATHS = {"menu": "/api/foods/", "orders": "/api/orders/"}


# --- the trees ----------------------------------------------------------------------------------------


def tree_env(extra: dict | None = None) -> dict:
    """The environment of a served process or manage.py command of a tree: `app_env` of the bench database,
    without this script's own virtualenv (`uv run` in the tree picks the tree's .venv)."""
    env = app_env(DB_NAME, prefix=PREFIX, **(extra or {}))
    own_venv = os.environ.get("VIRTUAL_ENV")
    env.pop("VIRTUAL_ENV", None)
    if own_venv:
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != f"{own_venv}/bin")
    return env


def run_in_tree(tree: Path, cmd: list[str], env: dict, timeout: float) -> str:
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {tree} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def ensure_venv(tree: Path) -> None:
    if (tree / ".venv").exists():
        return
    log(f"{tree}: no .venv, running uv sync --frozen --extra mysql")
    run_in_tree(tree, [UV, "sync", "--frozen", "--extra", "mysql"], tree_env(), timeout=900)


def manage(tree: Path, *args: str, timeout: float = 600) -> str:
    cmd = [UV, "run", "--frozen", "--extra", "mysql", "python", "manage.py", *args]
    return run_in_tree(tree, cmd, tree_env(), timeout)


def tree_info(tree: Path) -> dict:
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, timeout=30)
        return proc.stdout.decode(errors="replace").strip()

    out = {"path": str(tree), "git_head": git("rev-parse", "--short", "HEAD") or "unknown"}
    out["uncommitted_changes"] = bool(git("status", "--porcelain", "--untracked-files=no"))
    if out["uncommitted_changes"]:
        diff = subprocess.run(["git", "-C", str(tree), "diff", "HEAD"], capture_output=True, timeout=30).stdout
        out["diff_sha256"] = hashlib.sha256(diff).hexdigest()[:16]
    return out


def fresh_database(tree: Path) -> dict:
    """Drop and create bench_wrk, then migrate and seed it with the tree's own manage.py."""
    t0 = time.monotonic()
    # any database will do for the connection; information_schema is readable by every user
    sql("information_schema", f"DROP DATABASE IF EXISTS `{DB_NAME}`")
    sql("information_schema", f"CREATE DATABASE `{DB_NAME}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    manage(tree, "migrate", "--noinput", "-v", "0")
    manage(tree, "seed_data")
    manage(tree, "seed_tables")
    return {"setup_seconds": round(time.monotonic() - t0, 1)}


def order_count() -> int:
    return int(sql(DB_NAME, "SELECT COUNT(*) FROM ordering_order")[0][0])


def row_locks() -> dict[str, int]:
    """MariaDB's server-wide row-lock counters: waits, and the total wait in ms."""
    rows = sql(DB_NAME, "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits', 'Innodb_row_lock_time')")
    return {str(name): int(value) for name, value in rows}


def order_inputs() -> tuple[list[str], list[int]]:
    """Table ids (as UUID strings) and uncounted foods that are not sold out, from the bench database."""
    tables = [str(uuid.UUID(hex=str(row[0]))) for row in sql(DB_NAME, "SELECT id FROM ordering_table ORDER BY name")]
    foods = [
        int(row[0])
        for row in sql(DB_NAME, "SELECT id FROM ordering_food WHERE stock IS NULL AND NOT sold_out ORDER BY id")
    ]
    if not tables or not foods:
        raise RuntimeError(f"bench database has {len(tables)} tables and {len(foods)} uncounted foods")
    return tables, foods


# --- the server -----------------------------------------------------------------------------------------


def group_pids(pgid: int) -> list[int]:
    """Every live process of a process group (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry.name))
    return pids


class TreeServer:
    """`count` daphne processes of one tree in a process group of their own, killed as a group by stop()."""

    def __init__(self, tree: Path, env: dict, count: int = 1):
        self.tree, self.env, self.count = tree, env, count
        self.port = 0
        self.processes: list[subprocess.Popen] = []
        self.pgid: int | None = None
        self.sock: socket.socket | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-wrk-daphne-{os.getpid()}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> TreeServer:
        base = [UV, "run", "--frozen", "--extra", "mysql", "daphne"]
        if self.count == 1:
            self.port = free_port()
            commands, fds = [[*base, "-b", "127.0.0.1", "-p", str(self.port), "config.asgi:application"]], ()
        else:
            # one listening socket, accepted from by every process (as bench/common.py's Servers)
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.sock.listen(1024)
            self.port = self.sock.getsockname()[1]
            fd = self.sock.fileno()
            os.set_inheritable(fd, True)
            commands, fds = [[*base, "--fd", str(fd), "config.asgi:application"]] * self.count, (fd,)
        with open(self.log_path, "wb") as out:
            for cmd in commands:
                # a process group of their own (in this session: a new session could not be joined by the
                # second process), so that stop() reaches `uv run` and the daphne it started alike
                group = {"process_group": 0 if self.pgid is None else self.pgid}
                proc = subprocess.Popen(
                    cmd, cwd=self.tree, env=self.env, stdout=out, stderr=subprocess.STDOUT, pass_fds=fds, **group
                )
                self.processes.append(proc)
                if self.pgid is None:
                    self.pgid = proc.pid
        wait_healthy(self.url, self.processes, timeout, self.log_tail)
        time.sleep(2.0 if self.count > 1 else 0.5)
        return self

    def cpu_seconds(self) -> float:
        """CPU time used so far by the group's processes (uv run and daphne)."""
        total = 0.0
        for pid in group_pids(self.pgid) if self.pgid else []:
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += cpu_seconds(pid)
        return total

    def stop(self) -> None:
        if self.pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGTERM)
            deadline = Deadline(10)
            while group_pids(self.pgid) and not deadline.passed():
                for proc in self.processes:
                    proc.poll()
                time.sleep(0.1)
            if group_pids(self.pgid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pgid, signal.SIGKILL)
            for proc in self.processes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
            left = group_pids(self.pgid)
            if left:
                log(f"warning: processes {left} of group {self.pgid} still alive after SIGKILL")
            self.pgid = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


# --- wrk ------------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value: str, unit: str) -> float:
    return round(float(value) * _UNITS[unit], 2)


def parse_wrk(text: str) -> dict:
    """The numbers of wrk's report (and of wrk_orders.lua's done() lines when present)."""
    out: dict = {"latency_ms": {}, "socket_errors": {}, "non2xx_or_3xx": 0}
    for line in text.splitlines():
        if m := re.match(r"\s*(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s|m|h)\s*$", line):
            out["latency_ms"][f"p{m.group(1).removesuffix('.0')}"] = _ms(m.group(2), m.group(3))
        elif m := re.match(r"\s*Latency\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)", line):
            out["latency_ms"]["mean"] = _ms(m.group(1), m.group(2))
            out["latency_ms"]["stdev"] = _ms(m.group(3), m.group(4))
            out["latency_ms"]["max"] = _ms(m.group(5), m.group(6))
        elif m := re.match(r"\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", line):
            out["requests"] = int(m.group(1))
            out["seconds"] = _ms(m.group(2), m.group(3)) / 1000.0
        elif m := re.match(r"\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", line):
            out["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True))
        elif m := re.match(r"\s*Non-2xx or 3xx responses: (\d+)", line):
            out["non2xx_or_3xx"] = int(m.group(1))
        elif m := re.match(r"Requests/sec:\s+([\d.]+)", line):
            out["rps"] = float(m.group(1))
        elif m := re.match(r"wrk_orders responses=(\d+) ok=(\d+) non2xx=(\d+)", line):
            out["lua"] = {"responses": int(m.group(1)), "ok": int(m.group(2)), "non2xx": int(m.group(3))}
        elif m := re.match(r"wrk_orders statuses=(.*)$", line):
            out["statuses"] = {k: int(v) for k, v in (p.split(":") for p in m.group(1).split(",") if ":" in p)}
        elif m := re.match(r"wrk_orders latency_us p50=(\d+) p90=(\d+) p99=(\d+) max=(\d+)", line):
            names = ("p50", "p90", "p99", "max")
            out["lua_latency_ms"] = {k: int(v) / 1000.0 for k, v in zip(names, m.groups(), strict=True)}
        elif line.startswith("wrk_orders sample="):
            out.setdefault("error_samples", []).append(line.removeprefix("wrk_orders sample="))
    for key in ("rps", "requests"):
        if key not in out:
            raise RuntimeError(f"could not read {key} from wrk's output:\n{text[-2000:]}")
    # every answer that was not 2xx: the Lua count where there is one, else wrk's (which misses 3xx)
    out["non2xx"] = out["lua"]["non2xx"] if "lua" in out else out["non2xx_or_3xx"]
    out["socket_errors_total"] = sum(out["socket_errors"].values())
    out["ok"] = out["requests"] - out["non2xx"]
    out["ok_rps"] = round(out["ok"] / out["seconds"], 2) if out.get("seconds") else None
    return out


def with_keys(wrk_args: list[str], args) -> list[str]:
    """--keys: a nonce of this run, so that no two runs (a warm-up and its measured run) share a key."""
    return [*wrk_args, f"keys={time.time_ns()}"] if args.keys and wrk_args else wrk_args


def run_wrk(url: str, phase: str, seconds: float, args, wrk_args: list[str]) -> dict:
    cmd = [
        WRK,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        f"--timeout={args.timeout:g}s",
        "--latency",
    ]
    if phase == "orders":
        cmd += ["-s", str(LUA_ORDERS)]
    cmd.append(url + PATHS[phase])
    if wrk_args:
        cmd += ["--", *wrk_args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + args.timeout + 30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result = parse_wrk(proc.stdout)
    result["wrk_cpu_s"] = round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2)
    if proc.stderr.strip():
        result["wrk_stderr"] = proc.stderr.strip()[-1000:]
    return result


# --- one turn of one side -------------------------------------------------------------------------------


def run_turn(side: str, tree: Path, round_no: int, args, turns: list[dict]) -> None:
    """Appends the turn to `turns` first, so that a turn that fails halfway is in the results too."""
    log(f"round {round_no} side {side} ({tree}): fresh database {DB_NAME}")
    turn: dict = {"round": round_no, "side": side, "tree": str(tree)}
    turns.append(turn)
    turn.update(fresh_database(tree))
    tables, foods = order_inputs()
    turn["tables"], turn["uncounted_foods"] = len(tables), foods
    seed = args.seed * 100 + round_no  # the same request sequence for A and B in a round
    extra = dict(pair.split("=", 1) for pair in (args.a_env if side == "A" else args.b_env))
    turn["env"] = extra
    server = TreeServer(tree, tree_env(extra), args.servers)
    try:
        server.start()
        turn["port"] = server.port
        for phase in args.phases:
            wrk_args = []
            if phase == "orders":
                wrk_args = [f"seed={seed}", "tables=" + ",".join(tables), "foods=" + ",".join(map(str, foods))]
                orders_before = order_count()
            warm = run_wrk(server.url, phase, args.warmup, args, with_keys(wrk_args, args))
            capacity = host_capacity()
            load_before = load_avg()
            cpu_a = server.cpu_seconds()
            locks_a = row_locks()
            t_a = time.monotonic()
            result = run_wrk(server.url, phase, args.duration, args, with_keys(wrk_args, args))
            wall = time.monotonic() - t_a
            cpu = server.cpu_seconds() - cpu_a
            locks = {name: value - locks_a[name] for name, value in row_locks().items()}
            result.update(
                host_capacity=capacity,
                load_avg_before=load_before,
                server_cpu_s=round(cpu, 2),
                server_cores=round(cpu / wall, 2),
                server_cpu_ms_per_request=round(1000 * cpu / max(result["requests"], 1), 3),
                # every order takes its table's and the kitchen's and staff screens' next seq (hot rows)
                row_lock_waits=locks["Innodb_row_lock_waits"],
                row_lock_wait_ms=locks["Innodb_row_lock_time"],
                warmup={k: warm.get(k) for k in ("requests", "rps", "non2xx", "socket_errors_total", "statuses")},
            )
            if phase == "orders":
                # answers that wrk counted as 2xx (warm-up and measured) against the rows; wrk drops the answers
                # still in flight when its time is up, up to one per connection per run, whose orders exist
                time.sleep(1.0)  # the orders of answers wrk dropped at its end are still being written
                created = order_count() - orders_before
                counted = warm["ok"] + result["ok"]
                result["orders_in_db"] = created
                result["orders_2xx_counted"] = counted
                result["orders_db_consistent"] = counted <= created <= counted + 2 * args.connections
            turn[phase] = result
            log(
                f"  {side} {phase}: {result['rps']:.1f} req/s, p50 {result['latency_ms'].get('p50')} ms, "
                f"p99 {result['latency_ms'].get('p99')} ms, non-2xx {result['non2xx']}, "
                f"socket errors {result['socket_errors_total']}, host capacity {capacity}, "
                f"server {result['server_cores']} cores / {result['server_cpu_ms_per_request']} ms cpu per request"
                + (
                    f", orders in db {result['orders_in_db']} (2xx counted {result['orders_2xx_counted']})"
                    if phase == "orders"
                    else ""
                )
            )
            for sample in result.get("error_samples", []):
                log(f"    non-2xx: {sample}")
            if warm["non2xx"] or warm["socket_errors_total"]:
                log(f"    warm-up: non-2xx {warm['non2xx']}, socket errors {warm['socket_errors_total']}")
    except BaseException:
        turn["server_log_tail"] = server.log_tail()
        raise
    finally:
        server.stop()


# --- report -----------------------------------------------------------------------------------------------


def summarize(turns: list[dict], phases: list[str]) -> dict:
    out = {}
    for phase in phases:
        by_round: dict[int, dict[str, dict]] = {}
        for turn in turns:
            if phase in turn:
                by_round.setdefault(turn["round"], {})[turn["side"]] = turn[phase]
        ratios = [
            sides["B"]["ok_rps"] / sides["A"]["ok_rps"]
            for sides in by_round.values()
            if "A" in sides and "B" in sides and sides["A"].get("ok_rps") and sides["B"].get("ok_rps") is not None
        ]
        side_stats = {}
        for side in ("A", "B"):
            runs = [sides[side] for sides in by_round.values() if side in sides]
            if runs:
                side_stats[side] = {
                    "median_rps": round(statistics.median(r["rps"] for r in runs), 1),
                    "median_ok_rps": round(statistics.median(r["ok_rps"] or 0 for r in runs), 1),
                    "median_p50_ms": statistics.median(r["latency_ms"].get("p50", 0) for r in runs),
                    "median_p99_ms": statistics.median(r["latency_ms"].get("p99", 0) for r in runs),
                    "median_cpu_ms_per_request": statistics.median(r["server_cpu_ms_per_request"] for r in runs),
                    "non2xx": sum(r["non2xx"] for r in runs),
                    "socket_errors": sum(r["socket_errors_total"] for r in runs),
                }
        out[phase] = {
            "ratios_b_over_a": [round(r, 3) for r in ratios],
            "median_ratio_b_over_a": round(statistics.median(ratios), 3) if ratios else None,
            "sides": side_stats,
        }
    return out


def flagged(run: dict) -> bool:
    return bool(run["non2xx"] or run["socket_errors_total"] or run.get("orders_db_consistent") is False)


def print_tables(results: dict) -> None:
    for phase in results["args"]["phases"]:
        if not any(phase in turn for turn in results["turns"]):
            continue
        print(f"\n### {phase}: {PATHS[phase]}\n")
        print(
            "| round | side | requests/s | p50 ms | p99 ms | non-2xx | socket errors | host capacity | cpu ms/req "
            "| row-lock waits (ms) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for turn in results["turns"]:
            run = turn.get(phase)
            if run is None:
                continue
            mark = " **ERRORS**" if flagged(run) else ""
            print(
                f"| {turn['round']} | {turn['side']} | {run['rps']:.1f} | {run['latency_ms'].get('p50')} | "
                f"{run['latency_ms'].get('p99')} | {run['non2xx']}{mark} | {run['socket_errors_total']} | "
                f"{run['host_capacity']} | {run['server_cpu_ms_per_request']} | "
                f"{run.get('row_lock_waits', '-')} ({run.get('row_lock_wait_ms', '-')}) |"
            )
        summary = results["summary"][phase]
        ratio = summary["median_ratio_b_over_a"]
        print(
            f"\nmedian B/A of 2xx req/s: {ratio if ratio is not None else 'n/a'} "
            f"(per round: {', '.join(map(str, summary['ratios_b_over_a'])) or 'none'})"
        )
        for side, stats in summary["sides"].items():
            tree = results["trees"][side]
            dirty = ", uncommitted changes" if tree["uncommitted_changes"] else ""
            print(
                f"  {side} = {tree['path']} ({tree['git_head']}{dirty}): "
                f"median {stats['median_rps']} req/s, p50 {stats['median_p50_ms']} ms, p99 {stats['median_p99_ms']} ms"
            )


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, type=Path, help="tree A (the baseline), e.g. /work/pub-before")
    p.add_argument("--b", required=True, type=Path, help="tree B (the change), e.g. /work/main")
    p.add_argument("--rounds", type=int, default=3, help="rounds of A and B (default 3)")
    p.add_argument("--duration", type=float, default=6.0, help="seconds of each measured wrk run (default 6)")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of the uncounted warm-up run (default 2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--timeout", type=float, default=10.0, help="wrk's per-request timeout, seconds (default 10)")
    p.add_argument(
        "--phases",
        type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
        default=list(PHASES),
        help="comma-separated phases to run (default menu,orders)",
    )
    p.add_argument("--servers", type=int, default=1, help="daphne processes per side (default 1)")
    p.add_argument("--seed", type=int, default=1, help="seed of the order requests (default 1)")
    p.add_argument(
        "--keys", action="store_true", help="send each order with a new Idempotency-Key, as the phones' pages do"
    )
    p.add_argument("--a-env", action="append", default=[], metavar="KEY=VALUE", help="extra env of side A's servers")
    p.add_argument("--b-env", action="append", default=[], metavar="KEY=VALUE", help="extra env of side B's servers")
    args = p.parse_args(argv)
    args.a, args.b = args.a.resolve(), args.b.resolve()
    for tree in (args.a, args.b):
        if not (tree / "manage.py").is_file():
            p.error(f"{tree} is not an app tree (no manage.py)")
    if unknown := [x for x in args.phases if x not in PHASES]:
        p.error(f"unknown phases {unknown}; known: {','.join(PHASES)}")
    if not 1 <= args.rounds <= 50 or not 0.5 <= args.duration <= 600 or not 0 < args.warmup <= 60:
        p.error("--rounds 1..50, --duration 0.5..600, --warmup 0..60")
    if args.connections < args.threads or args.threads < 1 or not 1 <= args.servers <= 8:
        p.error("need --threads >= 1, --connections >= --threads, --servers 1..8")
    if not os.path.exists(WRK):
        p.error("wrk not found: apt-get install wrk")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    mysql_available()
    # a SIGTERM must still run the finally blocks that stop the servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results: dict = {
        "benchmark": "wrk_ab",
        "machine": machine_info(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "trees": {"A": tree_info(args.a), "B": tree_info(args.b)},
        "wrk": subprocess.run([WRK, "-v"], capture_output=True, text=True, timeout=10).stdout.splitlines()[0],
        "database": DB_NAME,
        "turns": [],
    }
    error = None
    try:
        for tree in dict.fromkeys((args.a, args.b)):
            ensure_venv(tree)
        for round_no in range(1, args.rounds + 1):
            order = ("A", "B") if round_no % 2 else ("B", "A")
            for side in order:
                tree = args.a if side == "A" else args.b
                run_turn(side, tree, round_no, args, results["turns"])
    except (Exception, KeyboardInterrupt, SystemExit) as exc:
        error = exc
        results["error"] = f"{type(exc).__name__}: {exc}"
    results["summary"] = summarize(results["turns"], args.phases)
    results["machine"]["load_avg_at_end"] = load_avg()
    bad = [
        f"round {t['round']} {t['side']} {phase}"
        for t in results["turns"]
        for phase in args.phases
        if phase in t and flagged(t[phase])
    ]
    results["flagged_runs"] = bad
    path = write_results("wrk_ab", results)
    if results["turns"]:
        print_tables(results)
    print(f"\nresults: {path}")
    if error is not None:
        traceback.print_exception(error)
        print(f"\nstopped by {results['error']}", file=sys.stderr)
        return 1
    if bad:
        print(f"\nWARNING: non-2xx answers, socket errors or missing orders in: {'; '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
