"""Markdown tables from a results JSON of run_all.py (or of one benchmark), for docs/benchmarks.md.

uv run python bench/report.py bench/results/run_all-20260101-120000.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGETS = {"menu": (1500, 50), "orders": (250, 150)}


def fmt(x) -> str:
    return "-" if x is None else f"{x:g}" if isinstance(x, float) else str(x)


def http_table(r: dict) -> list[str]:
    out = [
        "| orders in DB | processes | phase | req/s | p50 ms | p99 ms | max ms | non-2xx | server CPU s (per process) "
        "| machine busy cores (MariaDB / others) | MariaDB row-lock waits (total wait) | target |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for when in ("before", "after"):
        block = r.get(when, {})
        label = f"{block.get('rows', {}).get('orders', '?'):,}"
        for key, run in block.items():
            if not key.startswith("servers_"):
                continue
            listen = "reuseport" if run.get("listen") == "reuseport" else "shared"
            procs = f"{run['servers']} ({listen})" if run["servers"] > 1 else "1"
            for phase in ("menu", "tab", "orders"):
                p = run[phase]
                non2xx = sum(v for k, v in p["statuses"].items() if not k.startswith("2")) + p["errors"]
                target = ""
                if phase in TARGETS:
                    rps, p99 = TARGETS[phase]
                    met = p["rps"] >= rps and (p["p99_ms"] or 1e9) < p99
                    target = "met" if met else "**not met**"
                cpu = " + ".join(f"{c:g}" for c in p.get("server_cpu_s", []))
                busy = "-"
                if "machine_busy_cores" in p:
                    busy = f"{p['machine_busy_cores']:g} ({p['mariadb_cores']:g} / {p['busy_cores_others']:g})"
                locks = "-"
                if p.get("mariadb_row_lock_waits") is not None:
                    waits, ms = p["mariadb_row_lock_waits"], p["mariadb_row_lock_wait_ms"]
                    locks = f"{waits:,} ({ms / 1000:.1f} s)" if waits else "0"
                out.append(
                    f"| {label} | {procs} | {phase} | {fmt(p['rps'])} | {fmt(p['p50_ms'])} | {fmt(p['p99_ms'])} | "
                    f"{fmt(p['max_ms'])} | {non2xx} | {cpu} | {busy} | {locks} | {target} |"
                )
    return out


def ws_table(r: dict) -> list[str]:
    out = [
        "| N sockets | server | p50 ms | p99 ms | max ms | all delivered (per round) p50 / max ms | missing "
        "| RSS before -> after | KiB per socket | sockets opened in |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: |",
    ]
    for n, run in r.get("runs", {}).items():
        for who in ("ours", "floor"):
            x = run[who]
            s, a = x["from_send"], x["all_delivered_ms"]
            name = "daphne + Channels (Redis pub/sub)" if who == "ours" else "floor: bare websockets + Redis"
            out.append(
                f"| {n} | {name} | {fmt(s['p50_ms'])} | {fmt(s['p99_ms'])} | {fmt(s['max_ms'])} | "
                f"{fmt(a['p50_ms'])} / {fmt(a['max_ms'])} | {x['missing']} | "
                f"{x['rss_kib_before'] // 1024} -> {x['rss_kib_after'] // 1024} MiB | {x['rss_kib_per_socket']} | "
                f"{x['sockets']['seconds']} s |"
            )
        ratio = run["ratio_ours_over_floor"]
        out.append(
            f"| {n} | **ratio ours / floor** | {fmt(ratio.get('p50_ms'))} | {fmt(ratio.get('p99_ms'))} | "
            f"{fmt(ratio.get('max_ms'))} | | | | | |"
        )
    return out


def board_table(r: dict) -> list[str]:
    b, q = r["to_board"], r["post"]
    return [
        "| orders | rate | POST -> `order.created` on kitchen socket p50 / p99 / max ms | POST answered p50 / p99 ms "
        "| missing events | statuses |",
        "| ---: | ---: | --- | --- | ---: | --- |",
        f"| {r['orders_sent']} | {r['args']['rate']}/s | "
        f"{fmt(b['p50_ms'])} / {fmt(b['p99_ms'])} / {fmt(b['max_ms'])} | "
        f"{fmt(q['p50_ms'])} / {fmt(q['p99_ms'])} | {r['missing_events']} | {r['statuses']} |",
    ]


def webhook_table(r: dict) -> list[str]:
    d, e = r["deliveries"], r["end_to_end"]
    return [
        "| measure | n | p50 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| pre-order `POST /api/orders/pre-order/{{table}}/` (8 at once) | {d['pre_order_post']['n']} | "
        f"{fmt(d['pre_order_post']['p50_ms'])} | {fmt(d['pre_order_post']['p99_ms'])} | "
        f"{fmt(d['pre_order_post']['max_ms'])} |",
        f"| deposit webhook answer, {d['concurrency']} concurrent ({d['webhooks_per_s']}/s; "
        f"matched {d['matched_events']}/{d['pre_orders']}; {d['statuses']}) | {d['webhook']['n']} | "
        f"{fmt(d['webhook']['p50_ms'])} | {fmt(d['webhook']['p99_ms'])} | {fmt(d['webhook']['max_ms'])} |",
        f"| same run: webhook sent -> `order.paid` on kitchen socket | {d['webhook_to_paid_event']['n']} | "
        f"{fmt(d['webhook_to_paid_event']['p50_ms'])} | {fmt(d['webhook_to_paid_event']['p99_ms'])} | "
        f"{fmt(d['webhook_to_paid_event']['max_ms'])} |",
        f"| end to end: pre-order POST -> webhook -> `order.paid` (4 chains) | "
        f"{e['pre_order_to_paid_event']['n']} | {fmt(e['pre_order_to_paid_event']['p50_ms'])} | "
        f"{fmt(e['pre_order_to_paid_event']['p99_ms'])} | {fmt(e['pre_order_to_paid_event']['max_ms'])} |",
        f"| same chains: webhook sent -> `order.paid` | {e['webhook_to_paid_event']['n']} | "
        f"{fmt(e['webhook_to_paid_event']['p50_ms'])} | {fmt(e['webhook_to_paid_event']['p99_ms'])} | "
        f"{fmt(e['webhook_to_paid_event']['max_ms'])} |",
    ]


RENDER = {"http_load": http_table, "ws_fanout": ws_table, "order_to_board": board_table, "webhook": webhook_table}


def main(paths: list[str]) -> None:
    for path in paths:
        data = json.loads(Path(path).read_text())
        runs = data["runs"] if data.get("benchmark") == "run_all" else {data["benchmark"]: data}
        m = data["machine"]
        print(f"<!-- {path}: {m['date']}, load {m['load_avg_1_5_15']} -> {m.get('load_avg_at_end')} -->")
        for name, r in runs.items():
            if "error" in r:
                print(f"\n{name}: failed: {r['error']}")
                continue
            print(f"\n### {name} ({r['machine']['date']}, load at start {r['machine']['load_avg_1_5_15']})\n")
            print("\n".join(RENDER[name](r)))


if __name__ == "__main__":
    main(sys.argv[1:])
