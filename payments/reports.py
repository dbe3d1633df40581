"""The night report (CONTRACT.md section 9): what a business day sold, refunded and still waits for.

Every figure is summed by the database from the orders, their lines and refunds, so it agrees with them and
costs a fixed number of queries whatever the length of the night. Only `completed` orders count, by the time
they were paid; a business day runs from BUSINESS_DAY_STARTS local time to the same time the next day.

However long the night, each read is one range of one covering index. A line keeps its order's
paid_at and, once served, its ticket time (both written by the services with the values they copy), so the
lines are summed without a join and the 90th percentile is read from counts instead of a sort.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractDay, ExtractHour
from django.utils import timezone

from ordering.models import Food, Order, OrderItem, OrderStatus, Refund, Station
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


# The days whose window (local start to the next day's, in UTC) every supported database can hold.
FIRST_DAY, LAST_DAY = date(1000, 1, 2), date(9999, 12, 30)


def parse_day(text: str) -> date:
    """A business day written YYYY-MM-DD, nothing else (Python also takes 20261128); ValueError otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    day = date.fromisoformat(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(text)
    return day


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


def _refunds_of_completed(start: datetime, end: datetime):
    """Refunds of those orders, as a join: MariaDB runs `order_id IN (subquery)` row by row."""
    return Refund.objects.filter(order__status=OrderStatus.COMPLETED, order__paid_at__gte=start, order__paid_at__lt=end)


def _lines_paid(start: datetime, end: datetime, foods):
    """Lines of those orders. A line carries its order's paid_at (set only when the order is completed), so no
    join; naming every food and station makes `orderitem_night_idx` one range of payment times per pair."""
    return OrderItem.objects.filter(food_id__in=foods, station__in=Station.values, paid_at__gte=start, paid_at__lt=end)


def _orders_and_hours(orders, start: datetime) -> tuple[dict, list[dict]]:
    """Totals, and orders and net sales per local hour from the first hour with an order to the last.

    Grouped by the UTC day and hour (two integers, cheaper than truncating every payment time): Asia/Seoul is
    a whole number of hours from UTC, so its hours are UTC's, and a business day spans 24 of them.
    """
    rows = list(
        orders.annotate(day=ExtractDay("paid_at", tzinfo=UTC), hour=ExtractHour("paid_at", tzinfo=UTC))
        .values("day", "hour")
        .annotate(orders=Count("pk"), gross=Sum("total_amount"), refunds=Sum("refunded_amount"))
        .order_by()
    )
    totals = {
        "orders": sum(row["orders"] for row in rows),
        "gross": sum(row["gross"] for row in rows),
        "refunds": sum(row["refunds"] for row in rows),
    }
    empty = {"orders": 0, "gross": 0, "refunds": 0}
    by_hour = {(row["day"], row["hour"]): row for row in rows}
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    window = [first + timedelta(hours=n) for n in range(25)]  # 24 hours, one more if the day starts at :30
    sums = [by_hour.get((hour.day, hour.hour), empty) for hour in window]
    sold = [n for n, row in enumerate(sums) if row["orders"]]
    return totals, [
        {
            "hour": timezone.localtime(window[n]).isoformat(),
            "orders": sums[n]["orders"],
            "net": sums[n]["gross"] - sums[n]["refunds"],
        }
        for n in (range(sold[0], sold[-1] + 1) if sold else ())
    ]


SERVED = Q(ticket_tenths__isnull=False)


def _lines(lines) -> list[dict]:
    """The night's lines summed by food and station, with their ticket times, in one scan."""
    return list(
        lines.values("food_id", "station")
        .annotate(
            units=Sum("quantity"),
            amount=Sum(F("quantity") * F("unit_price")),
            served=Count("ticket_tenths"),
            tenths=Sum("ticket_tenths"),
        )
        .order_by()
    )


def _p90(lines) -> float | None:
    """The 90th percentile (nearest rank) of the served lines' ticket times, in seconds, from how many lines
    took each tenth of a second: one count per distinct time (tens of thousands at most) instead of a sort of
    every line."""
    histogram = sorted(
        lines.filter(SERVED).values("ticket_tenths").annotate(lines=Count("pk")).values_list("ticket_tenths", "lines")
    )
    rank = -(-9 * sum(lines for _, lines in histogram) // 10)  # ceil(0.9 n), one-based
    seen = 0
    for tenths, lines in histogram:
        seen += lines
        if seen >= rank:
            return tenths / 10
    return None  # every served line was recalled since the totals were read


def _refunds(start: datetime, end: datetime) -> tuple[dict, dict]:
    """Refunded amounts by food and by station."""
    by_food: dict[int, int] = {}
    by_station: dict[str, int] = {}
    for food_id, station, amount in (
        _refunds_of_completed(start, end)
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
    totals, by_hour = _orders_and_hours(_completed(start, end), start)
    names = dict(Food.objects.values_list("pk", "name"))  # a dish is shown by its name on the menu
    night_lines = _lines_paid(start, end, list(names))
    back_food, back_station = _refunds(start, end)

    foods: dict[int, dict] = {}
    stations = {station: {"station": station, "quantity": 0, "net": 0} for station in Station.values}
    served, tenths = 0, 0
    for row in _lines(night_lines):
        food_id = row["food_id"]
        food = foods.setdefault(food_id, {"food_id": food_id, "name": names[food_id], "quantity": 0})
        food["quantity"] += row["units"]
        food["gross"] = food.get("gross", 0) + row["amount"]
        stations[row["station"]]["quantity"] += row["units"]
        stations[row["station"]]["net"] += row["amount"]
        served += row["served"]
        tenths += row["tenths"] or 0
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
        # Waiting for money at some time of the night: one placed just before the day turned still counts
        # in the new day's report while it waits.
        "pending_pre_orders": Order.objects.filter(
            status=OrderStatus.PRE_ORDER, order_date__lt=end, expires_at__gt=start
        ).count(),
        "ticket_seconds": {
            "avg": round(tenths / served / 10, 1) if served else None,
            "p90": _p90(night_lines) if served else None,
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
        _lines_paid(start, end, list(Food.objects.values_list("pk", flat=True)))
        .order_by("paid_at", "order_id", "id")
        .values_list(
            "order_id",
            "food_id",
            "order__order_number",
            "paid_at",
            "order__table__name",
            "order__payer_name",
            "food_name",
            "station",
            "quantity",
            "unit_price",
        )
    )
    refunded: dict[tuple, int] = {}
    for order_id, food_id, quantity in _refunds_of_completed(start, end).values_list("order_id", "food_id", "quantity"):
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
        texts = [cell_text(value) for value in (number, paid, table, payer, food, station)]
        writer.writerow([*texts, quantity, price, back, (quantity - back) * price])
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: str) -> str:
    """A text cell a spreadsheet shows as written: a customer's payer name such as `=HYPERLINK(...)` would
    otherwise run as a formula when the owner opens the file (OWASP's CSV injection advice: a leading ')."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
