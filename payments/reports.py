"""The night report (CONTRACT.md section 9): what a business day sold, refunded and still waits for.

Every figure is summed by the database from the orders, their lines and refunds, so it agrees with them and
costs a fixed number of queries whatever the length of the night. Only `completed` orders count, by the time
they were paid; a business day runs from BUSINESS_DAY_STARTS local time to the same time the next day.
"""

import csv
import io
import re
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Q, Sum
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


def _by_hour(orders, start: datetime) -> list[dict]:
    """Orders and net sales per local hour, from the first hour with an order to the last. One query of
    conditional sums over plain ranges: grouping by a truncated hour would need the database's time-zone
    tables, which a MariaDB install often lacks."""
    hours = [start + timedelta(hours=n) for n in range(24)]
    net = F("total_amount") - F("refunded_amount")
    sums = {}
    for n, hour in enumerate(hours):
        within = Q(paid_at__gte=hour, paid_at__lt=hour + timedelta(hours=1))
        sums[f"o{n}"] = Count("pk", filter=within)
        sums[f"n{n}"] = Sum(net, filter=within)
    row = orders.aggregate(**sums)
    busy = [n for n in range(24) if row[f"o{n}"]]
    if not busy:
        return []
    return [
        {
            "hour": timezone.localtime(hours[n]).isoformat(),
            "orders": row[f"o{n}"],
            "net": row[f"n{n}"] or 0,
        }
        for n in range(busy[0], busy[-1] + 1)
    ]


def _ticket_seconds(orders) -> dict:
    """Paid to served, over served lines: average and 90th percentile (nearest rank), in seconds."""
    lines = OrderItem.objects.filter(order__in=orders, served_at__isnull=False).annotate(
        took=ExpressionWrapper(F("served_at") - F("order__paid_at"), output_field=DurationField())
    )
    count = lines.count()
    if not count:
        return {"avg": None, "p90": None}
    total = lines.aggregate(total=Sum("took"))["total"]
    rank = max(0, -(-9 * count // 10) - 1)  # ceil(0.9 n) - 1, zero-based
    p90 = lines.order_by("took").values_list("took", flat=True)[rank]
    return {"avg": round(total.total_seconds() / count, 1), "p90": round(p90.total_seconds(), 1)}


def night_report(day: date | None = None) -> dict:
    day = day or business_day()
    start, end = day_window(day)
    orders = _completed(start, end)
    totals = orders.aggregate(orders=Count("pk"), gross=Sum("total_amount"), refunds=Sum("refunded_amount"))
    gross, refunds = totals["gross"] or 0, totals["refunds"] or 0

    lines = OrderItem.objects.filter(order__in=orders)
    refunded = Refund.objects.filter(order__in=orders)
    sold = {
        row["food_id"]: row
        for row in lines.values("food_id").annotate(
            units=Sum("quantity"), amount=Sum(F("quantity") * F("unit_price")), name=Max("food_name")
        )
    }
    back = {row["food_id"]: row["amount"] for row in refunded.values("food_id").annotate(amount=Sum("amount"))}
    items = sorted(sold.values(), key=lambda row: (-row["units"], row["name"], row["food_id"]))[:TOP_ITEMS]

    station_gross = dict(
        lines.values("station").annotate(s=Sum(F("quantity") * F("unit_price"))).values_list("station", "s")
    )
    station_quantity = dict(lines.values("station").annotate(units=Sum("quantity")).values_list("station", "units"))
    station_back = dict(refunded.values("station").annotate(s=Sum("amount")).values_list("station", "s"))

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
        "gross": gross,
        "refunds": refunds,
        "net": gross - refunds,
        "pending_pre_orders": Order.objects.filter(
            status=OrderStatus.PRE_ORDER, order_date__gte=start, order_date__lt=end
        ).count(),
        "ticket_seconds": _ticket_seconds(orders),
        "by_hour": _by_hour(orders, start),
        "top_items": [
            {
                "food_id": row["food_id"],
                "name": row["name"],
                "quantity": row["units"],
                "net": row["amount"] - back.get(row["food_id"], 0),
            }
            for row in items
        ],
        "by_station": [
            {
                "station": station,
                "quantity": station_quantity.get(station, 0),
                "net": (station_gross.get(station) or 0) - (station_back.get(station) or 0),
            }
            for station in Station.values
        ],
        "payments": {outcome: outcomes.get(outcome, 0) for outcome in PaymentEvent.Outcome.values},
    }


def night_csv(day: date | None = None) -> str:
    """One row per order line of the night's completed orders, oldest payment first; UTF-8 with a BOM so
    spreadsheet programs read the Korean."""
    start, end = day_window(day or business_day())
    lines = (
        OrderItem.objects.filter(order__in=_completed(start, end))
        .select_related("order__table")
        .order_by("order__paid_at", "order_id", "id")
    )
    refunded: dict[tuple, int] = {}
    for order_id, food_id, quantity in Refund.objects.filter(order__in=_completed(start, end)).values_list(
        "order_id", "food_id", "quantity"
    ):
        refunded[(order_id, food_id)] = refunded.get((order_id, food_id), 0) + quantity
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines.iterator(chunk_size=2000):
        back = refunded.get((line.order_id, line.food_id), 0)
        writer.writerow(
            [
                line.order.order_number,
                timezone.localtime(line.order.paid_at).isoformat(),
                line.order.table.name,
                line.order.payer_name,
                line.food_name,
                line.station,
                line.quantity,
                line.unit_price,
                back,
                (line.quantity - back) * line.unit_price,
            ]
        )
    return out.getvalue()
