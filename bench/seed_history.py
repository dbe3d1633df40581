"""Bulk-load N historic orders into the bench database with the ORM (run with the app's environment).

    DATABASE_URL=mysql://root@127.0.0.1:3306/bench_pub SECRET_KEY=bench python bench/seed_history.py 100000

A realistic spread: the orders of three festival evenings (18:00-24:00, the last one ending yesterday)
over the 15 tables; 1-4 lines of 1-3 units each; ~60% came in as pre-orders (payer name set, paid a little
later). 93% completed, 7% cancelled (expired unpaid). Of the completed ones 85% were marked served, the
rest left queued/cooking (staff forget to tap). Every table was reset at the end of each evening, so
almost all orders are archived; the exception is ~1% of expired pre-orders that expired after the reset
and so stay, cancelled, on the table's current session. The current tabs are prepared by the benchmark.
"""

import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

# the app from BENCH_APP_DIR when the benchmarks run on a copy of the tree, else from this repository
sys.path.insert(0, os.environ.get("BENCH_APP_DIR") or str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from ordering.models import Food, KitchenStatus, Order, OrderItem, OrderStatus, Table  # noqa: E402

BATCH = 2000
NAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민준", "서연", "도윤", "하은", "지호", "수아", "예준", "지유", "시우", "하린", "주원", "지아"]


def main(count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    foods = list(Food.objects.all())
    tables = list(Table.objects.all())
    if not foods or not tables:
        sys.exit("seed the menu and tables first (seed_data, seed_tables)")
    # auto_now_add would stamp every row with now: historic rows carry their own dates (this process only).
    Order._meta.get_field("order_date").auto_now_add = False

    today = timezone.localtime().replace(hour=18, minute=0, second=0, microsecond=0)
    evenings = [today - timedelta(days=d) for d in (3, 2, 1)]
    started = time.monotonic()
    made = 0
    while made < count:
        n = min(BATCH, count - made)
        orders, items = [], []
        for i in range(n):
            serial = made + i
            evening = evenings[serial * len(evenings) // count]
            ordered_at = evening + timedelta(seconds=rng.uniform(0, 6 * 3600))
            pre_order = rng.random() < 0.6
            cancelled = pre_order and rng.random() < 0.12  # ~7% of all orders
            lines = rng.sample(foods, rng.randint(1, 4))
            quantities = [rng.randint(1, 3) for _ in lines]
            total = sum(f.price * q for f, q in zip(lines, quantities, strict=True))
            if cancelled:
                status, kitchen, paid_at = OrderStatus.CANCELLED, KitchenStatus.QUEUED, None
                # expired after the night's reset: stays on the current session, cancelled (about 1 in 7)
                archived_at = None if rng.random() < 0.14 else evening + timedelta(hours=6, minutes=30)
            else:
                status = OrderStatus.COMPLETED
                paid_at = ordered_at + timedelta(seconds=rng.uniform(20, 300) if pre_order else 0)
                kitchen = (
                    KitchenStatus.SERVED
                    if rng.random() < 0.85
                    else rng.choice([KitchenStatus.QUEUED, KitchenStatus.COOKING])
                )
                archived_at = evening + timedelta(hours=6, minutes=30)
            order = Order(
                order_number=f"H{seed:02d}{serial:09d}",
                table=rng.choice(tables),
                status=status,
                kitchen_status=kitchen,
                payer_name=(rng.choice(NAMES) + rng.choice(GIVEN)) if pre_order else "",
                total_amount=total,
                order_date=ordered_at,
                paid_at=paid_at,
                expires_at=ordered_at + timedelta(minutes=30) if pre_order else None,
                archived_at=archived_at,
                discord_notified=status == OrderStatus.COMPLETED,
            )
            orders.append(order)
            for food, quantity in zip(lines, quantities, strict=True):
                items.append(
                    OrderItem(
                        order=order,
                        food=food,
                        food_name=food.name,
                        unit_price=food.price,
                        quantity=quantity,
                        paid_at=paid_at,
                    )
                )
        with transaction.atomic():
            Order.objects.bulk_create(orders, batch_size=BATCH)
            OrderItem.objects.bulk_create(items, batch_size=BATCH * 2)
        made += n
        if made % 20000 == 0 or made == count:
            print(f"{made} orders ({time.monotonic() - started:.1f}s)", flush=True)
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE ordering_order, ordering_orderitem")
            cursor.fetchall()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
