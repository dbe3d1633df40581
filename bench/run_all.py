"""Run every benchmark in sequence with modest default sizes; one results JSON for the lot.

    make bench                                   # = uv run python bench/run_all.py
    uv run python bench/run_all.py --quick       # small validation sizes (about 3 minutes)
    uv run python bench/run_all.py --full        # the sizes of docs/benchmarks.md (15 s phases, 5,000 sockets)

Each benchmark also runs alone (see bench/README.md). Results: bench/results/run_all-<time>.json (gitignored)
plus one file per benchmark.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_load
import order_to_board
import webhook
import ws_fanout
from common import load_avg, log, machine_info, write_results

SIZES = {
    "quick": {
        "http_load": ["--quick", "--servers", "1"],
        "ws_fanout": ["--sockets", "200", "--rounds", "3"],
        "order_to_board": ["--rate", "10", "--seconds", "3"],
        "webhook": ["--pre-orders", "40", "--e2e", "10"],
    },
    "default": {
        "http_load": ["--duration", "10", "--servers", "1,2,2rp", "--history", "100000"],
        "ws_fanout": ["--sockets", "1000", "--rounds", "10"],
        "order_to_board": ["--rate", "20", "--seconds", "15"],
        "webhook": ["--pre-orders", "300", "--e2e", "100"],
    },
    "full": {
        "http_load": ["--duration", "15", "--servers", "1,2,2rp", "--history", "100000"],
        "ws_fanout": ["--sockets", "1000,5000", "--rounds", "10"],
        "order_to_board": ["--rate", "20", "--seconds", "15"],
        "webhook": ["--pre-orders", "300", "--e2e", "100"],
    },
}
BENCHMARKS = {"http_load": http_load, "ws_fanout": ws_fanout, "order_to_board": order_to_board, "webhook": webhook}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="size", const="quick")
    size.add_argument("--full", action="store_const", dest="size", const="full")
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset, in this order")
    args = p.parse_args(argv)
    sizes = SIZES[args.size or "default"]
    results: dict = {"benchmark": "run_all", "size": args.size or "default", "machine": machine_info(), "runs": {}}
    for name in [n for n in args.only.split(",") if n]:
        log(f"=== {name} {' '.join(sizes[name])} (load {load_avg()})")
        started = time.monotonic()
        try:
            results["runs"][name] = BENCHMARKS[name].main(sizes[name])
        except Exception as exc:  # one failing benchmark does not lose the others' numbers
            log(f"{name} failed: {exc!r}")
            results["runs"][name] = {"error": repr(exc)}
        log(f"=== {name} done in {time.monotonic() - started:.0f}s")
    results["machine"]["load_avg_at_end"] = load_avg()
    print(f"\nall results: {write_results('run_all', results)}")


if __name__ == "__main__":
    main()
