"""The night report over a long night: N completed orders (two lines each, some refunded, served lines with
ticket times) on MariaDB, then GET /api/reports/night/ and the CSV timed through the served app.

    uv run --extra mysql python bench/night_report.py --orders 100000

The night is written with bulk inserts in this process (the ORM, not the services: building it through
100,000 requests would measure the order path, not the report).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    STAFF_PASSWORD,
    STAFF_USER,
    Servers,
    app_env,
    fresh_database,
    log,
    machine_info,
    summary_ms,
    write_results,
)

DB = "bench_report"
NIGHT = "2026-11-28"


def build_night(orders: int) -> None:
    os.environ.update(app_env(DB))
    import django

    django.setup()
    from ordering.models import Food, Order, OrderItem, Refund, Table

    rng = random.Random(7)
    foods = list(Food.objects.all())
    tables = list(Table.objects.all())
    start = datetime(2026, 11, 28, 17, 0, tzinfo=ZoneInfo("Asia/Seoul"))
    span = int(timedelta(hours=11).total_seconds())  # 17:00 to 04:00, past midnight
    batch = 5000
    for first in range(0, orders, batch):
        rows, lines, refunds = [], [], []
        for n in range(first, min(first + batch, orders)):
            paid = start + timedelta(seconds=rng.randrange(span))
            picked = rng.sample(foods, 2)
            quantities = [rng.randint(1, 3), rng.randint(1, 2)]
            total = sum(f.price * q for f, q in zip(picked, quantities, strict=True))
            refunded = picked[0].price if n % 20 == 0 else 0
            order = Order(
                id=uuid.uuid4(),
                order_number=f"B{n:014d}",
                table=tables[n % len(tables)],
                status="completed",
                kitchen_status="served",
                total_amount=total,
                refunded_amount=refunded,
                paid_at=paid,
            )
            rows.append(order)
            for food, quantity in zip(picked, quantities, strict=True):
                took = rng.randint(600, 18000)  # tenths of a second: 1 to 30 minutes
                lines.append(
                    OrderItem(
                        order=order,
                        food=food,
                        food_name=food.name,
                        unit_price=food.price,
                        quantity=quantity,
                        station=food.station,
                        kitchen_status="served",
                        served_at=paid + timedelta(seconds=took / 10),
                        paid_at=paid,
                        ticket_tenths=took,
                    )
                )
            if refunded:
                refunds.append(
                    Refund(
                        order=order,
                        food=picked[0],
                        food_name=picked[0].name,
                        unit_price=picked[0].price,
                        quantity=1,
                        amount=picked[0].price,
                        station=picked[0].station,
                    )
                )
        Order.objects.bulk_create(rows)
        Order.objects.filter(pk__in=[o.pk for o in rows]).update(order_date=start)
        OrderItem.objects.bulk_create(lines)
        Refund.objects.bulk_create(refunds)
        log(f"  {min(first + batch, orders)} orders written")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="time the night already in the bench database")
    args = parser.parse_args()

    setup = {"reused": True}
    if not args.reuse:
        setup = fresh_database(DB)
        t0 = time.monotonic()
        build_night(args.orders)
        log(f"night of {args.orders} orders built in {time.monotonic() - t0:.0f} s")

    import requests

    results = {"machine": machine_info(), "orders": args.orders, "setup": setup}
    with Servers(env=app_env(DB)) as server:
        session = requests.Session()
        token = session.post(
            f"{server.url}/api/auth/token/", json={"username": STAFF_USER, "password": STAFF_PASSWORD}, timeout=10
        ).json()["token"]
        session.headers["Authorization"] = f"Token {token}"
        for name, path in [("report", "/api/reports/night/"), ("csv", "/api/reports/night.csv")]:
            timings = []
            for _ in range(args.rounds):
                began = time.monotonic()
                response = session.get(f"{server.url}{path}?date={NIGHT}", timeout=120)
                timings.append(time.monotonic() - began)
                response.raise_for_status()
            results[name] = summary_ms(timings)
            if name == "report":
                body = response.json()
                results["report_orders"] = body["orders"]
                assert body["orders"] == args.orders, body["orders"]
            else:
                results["csv_rows"] = response.content.count(b"\n") - 1
            log(f"{name}: {results[name]}")
    write_results("night_report", results)


if __name__ == "__main__":
    main()
