"""The night report (CONTRACT.md section 9): what a business day sold, refunded and still waits for.

Every figure is summed by the database from the orders, their lines and refunds, so it agrees with them and
costs a fixed number of queries whatever the length of the night. Only `completed` orders count, by the time
they were paid; a business day runs from BUSINESS_DAY_STARTS local time to the same time the next day.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from ordering.models import Order, OrderItem, OrderStatus, Refund, Station
from payments.models import PaymentEvent

TOP_ITEMS = 10
CSV_COLUMNS = [
    "order_number",
    "paid_at",
    "table",
    "payer_name",
    "food",
    "station",
    "quantity",
    "unit_price",
    "refunded_quantity",
    "net",
]


def parse_day(text: str) -> date:
    """A business day written YYYY-MM-DD, nothing else (Python also takes 20261128); ValueError otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)


def day_starts() -> time:
    return time.fromisoformat(settings.BUSINESS_DAY_STARTS)


def business_day(now: datetime | None = None) -> date:
    """The business day a moment belongs to: 01:30 on the 30th is still the night of the 29th."""
    local = timezone.localtime(now or timezone.now())
    starts = day_starts()
    return (local - timedelta(hours=starts.hour, minutes=starts.minute)).date()


def day_window(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, day_starts()))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), day_starts()))


def _completed(start: datetime, end: datetime):
    return Order.objects.filter(status=OrderStatus.COMPLETED, paid_at__gte=start, paid_at__lt=end)


def _of_completed(model, start: datetime, end: datetime):
    """Lines or refunds of those orders, as a join: MariaDB runs `order_id IN (subquery)` row by row."""
    return model.objects.filter(order__status=OrderStatus.COMPLETED, order__paid_at__gte=start, order__paid_at__lt=end)


def _orders_and_hours(orders) -> tuple[dict, list[dict]]:
    """Totals, and orders and net sales per local hour from the first hour with an order to the last.

    Grouped by the UTC hour: truncating in the local zone would need the database's time-zone tables (often
    missing in a MariaDB install), and Asia/Seoul is a whole number of hours from UTC, so its hours are UTC's.
    """
    net = F("total_amount") - F("refunded_amount")
    rows = list(
        orders.annotate(hour=TruncHour("paid_at", tzinfo=UTC))
        .values("hour")
        .annotate(orders=Count("pk"), gross=Sum("total_amount"), refunds=Sum("refunded_amount"), net=Sum(net))
        .order_by("hour")
    )
    totals = {
        "orders": sum(row["orders"] for row in rows),
        "gross": sum(row["gross"] for row in rows),
        "refunds": sum(row["refunds"] for row in rows),
    }
    if not rows:
        return totals, []
    by_hour = {row["hour"]: row for row in rows}
    first, last = rows[0]["hour"], rows[-1]["hour"]
    hours = [first + timedelta(hours=n) for n in range(int((last - first).total_seconds() // 3600) + 1)]
    return totals, [
        {
            "hour": timezone.localtime(hour).isoformat(),
            "orders": by_hour[hour]["orders"] if hour in by_hour else 0,
            "net": by_hour[hour]["net"] if hour in by_hour else 0,
        }
        for hour in hours
    ]


TOOK = ExpressionWrapper(F("served_at") - F("order__paid_at"), output_field=DurationField())
SERVED = Q(served_at__isnull=False)


def _lines(start: datetime, end: datetime) -> list[dict]:
    """The night's lines summed by food and station, with their ticket times (paid to served), in one scan."""
    return list(
        _of_completed(OrderItem, start, end)
        .values("food_id", "station")
        .annotate(
            units=Sum("quantity"),
            amount=Sum(F("quantity") * F("unit_price")),
            name=Max("food_name"),
            served=Count("pk", filter=SERVED),
            took=Sum(TOOK, filter=SERVED),
        )
        .order_by()
    )


def _p90(start: datetime, end: datetime, served: int) -> float:
    """The 90th percentile (nearest rank) of the served lines' ticket times, in seconds."""
    rank = max(0, -(-9 * served // 10) - 1)  # ceil(0.9 n) - 1, zero-based
    took = (
        _of_completed(OrderItem, start, end)
        .filter(SERVED)
        .annotate(took=TOOK)
        .order_by("took")
        .values_list("took", flat=True)[rank]
    )
    return round(took.total_seconds(), 1)


def _refunds(start: datetime, end: datetime) -> tuple[dict, dict]:
    """Refunded amounts by food and by station."""
    by_food: dict[int, int] = {}
    by_station: dict[str, int] = {}
    for food_id, station, amount in (
        _of_completed(Refund, start, end)
        .values("food_id", "station")
        .annotate(amount=Sum("amount"))
        .values_list("food_id", "station", "amount")
        .order_by()
    ):
        by_food[food_id] = by_food.get(food_id, 0) + amount
        by_station[station] = by_station.get(station, 0) + amount
    return by_food, by_station


def night_report(day: date | None = None) -> dict:
    day = day or business_day()
    start, end = day_window(day)
    totals, by_hour = _orders_and_hours(_completed(start, end))
    lines = _lines(start, end)
    back_food, back_station = _refunds(start, end)

    foods: dict[int, dict] = {}
    stations = {station: {"station": station, "quantity": 0, "net": 0} for station in Station.values}
    served, took = 0, timedelta(0)
    for row in lines:
        food = foods.setdefault(row["food_id"], {"food_id": row["food_id"], "name": row["name"], "quantity": 0})
        food["quantity"] += row["units"]
        food["gross"] = food.get("gross", 0) + row["amount"]
        stations[row["station"]]["quantity"] += row["units"]
        stations[row["station"]]["net"] += row["amount"]
        served += row["served"]
        took += row["took"] or timedelta(0)
    for station, amount in back_station.items():
        stations[station]["net"] -= amount
    items = sorted(foods.values(), key=lambda row: (-row["quantity"], row["name"], row["food_id"]))[:TOP_ITEMS]

    outcomes = dict(
        PaymentEvent.objects.filter(received_at__gte=start, received_at__lt=end)
        .values("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    return {
        "date": day.isoformat(),
        "from": timezone.localtime(start).isoformat(),
        "to": timezone.localtime(end).isoformat(),
        "orders": totals["orders"],
        "gross": totals["gross"],
        "refunds": totals["refunds"],
        "net": totals["gross"] - totals["refunds"],
        "pending_pre_orders": Order.objects.filter(
            status=OrderStatus.PRE_ORDER, order_date__gte=start, order_date__lt=end
        ).count(),
        "ticket_seconds": {
            "avg": round(took.total_seconds() / served, 1) if served else None,
            "p90": _p90(start, end, served) if served else None,
        },
        "by_hour": by_hour,
        "top_items": [
            {
                "food_id": row["food_id"],
                "name": row["name"],
                "quantity": row["quantity"],
                "net": row["gross"] - back_food.get(row["food_id"], 0),
            }
            for row in items
        ],
        "by_station": list(stations.values()),
        "payments": {outcome: outcomes.get(outcome, 0) for outcome in PaymentEvent.Outcome.values},
    }


def night_csv(day: date | None = None) -> str:
    """One row per order line of the night's completed orders, oldest payment first; UTF-8 with a BOM so
    spreadsheet programs read the Korean."""
    start, end = day_window(day or business_day())
    # Plain tuples, not model instances: a long night has hundreds of thousands of lines.
    lines = (
        _of_completed(OrderItem, start, end)
        .order_by("order__paid_at", "order_id", "id")
        .values_list(
            "order_id",
            "food_id",
            "order__order_number",
            "order__paid_at",
            "order__table__name",
            "order__payer_name",
            "food_name",
            "station",
            "quantity",
            "unit_price",
        )
    )
    refunded: dict[tuple, int] = {}
    for order_id, food_id, quantity in _of_completed(Refund, start, end).values_list("order_id", "food_id", "quantity"):
        refunded[(order_id, food_id)] = refunded.get((order_id, food_id), 0) + quantity
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    zone = timezone.get_current_timezone()
    for order_id, food_id, number, paid_at, table, payer, food, station, quantity, price in lines.iterator(
        chunk_size=5000
    ):
        back = refunded.get((order_id, food_id), 0)
        paid = paid_at.astimezone(zone).isoformat()
        writer.writerow([number, paid, table, payer, food, station, quantity, price, back, (quantity - back) * price])
    return out.getvalue()
