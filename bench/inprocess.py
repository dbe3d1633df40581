"""The cost of one request with no server around it: Django's test client (WSGI path), one thread, one
persistent database connection, run in this process against the bench database.

    uv run python bench/inprocess.py                      # GET /api/foods/, 500 requests
    uv run python bench/inprocess.py --path /api/tables/  # any GET path (staff paths need --staff)
    uv run python bench/inprocess.py --orders             # POST /api/orders/ (1-3 uncounted foods, any table)

What daphne adds on top (a thread and a database connection per request, sync/async hops) is the
difference between 1 / (CPU ms per request here) and the rate http_load.py measures for one process.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import APP_DIR, app_env, load_avg


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--path", default="/api/foods/")
    p.add_argument("--requests", type=int, default=500)
    p.add_argument("--db-name", default="bench_pub", help="an existing bench database (http_load.py makes it)")
    p.add_argument("--orders", action="store_true", help="POST /api/orders/ as http_load.py's orders phase does")
    p.add_argument("--profile", type=int, default=15, help="cProfile lines to print (0: none)")
    args = p.parse_args(argv)
    os.environ.update(app_env(args.db_name, redis=args.orders, CONN_MAX_AGE="600"))
    sys.path.insert(0, str(APP_DIR))
    warnings.filterwarnings("ignore")
    import django

    django.setup()
    from django.test import Client

    client = Client()
    request, label = (lambda: client.get(args.path)), args.path
    if args.orders:
        request, label = order_request(client), "POST /api/orders/"
    for _ in range(min(50, args.requests)):
        assert request().status_code in (200, 201)
    n = args.requests
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        response = request()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{label}: {n} requests in-process (WSGI test client): {wall / n * 1000:.2f} ms wall, "
        f"{cpu / n * 1000:.2f} ms CPU per request -> at most ~{n / cpu:.0f} requests/s per core; "
        f"{len(response.content)} bytes; load {load_avg()}"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(min(n, 200)):
            request()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            args.profile
        )
        print(out.getvalue())


def order_request(client):
    """A request function posting random direct orders (1-3 lines of uncounted foods, a random table)."""
    import json
    import random

    from ordering.models import Food, Table

    tables = [str(pk) for pk in Table.objects.values_list("pk", flat=True)]
    foods = list(Food.objects.filter(stock__isnull=True, sold_out=False).values_list("pk", flat=True))
    rng = random.Random(1)

    def request():
        items = [{"food_id": f, "quantity": rng.randint(1, 3)} for f in rng.sample(foods, rng.randint(1, 3))]
        body = json.dumps({"table_id": rng.choice(tables), "items": items})
        return client.post("/api/orders/", body, content_type="application/json")

    return request


if __name__ == "__main__":
    main()
