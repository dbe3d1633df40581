"""The night report and its CSV (CONTRACT.md section 9), checked against a night built here and computed
independently from its rows."""

import csv
import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from kitchen.services import order_kitchen_status_set
from ordering.models import Category, Order, OrderItem, OrderStatus, Refund, ticket_tenths
from ordering.services import order_place
from payments import services as payments
from payments.models import PaymentEvent
from tests.api.helpers import assert_error
from tests.factories import FoodFactory, StaffFactory, TableFactory
from tests.payments.support import deposit_body

pytestmark = pytest.mark.django_db

SEOUL = ZoneInfo("Asia/Seoul")
NIGHT = "2026-11-28"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL)


def paid(order: Order, when: str) -> Order:
    """Move an order's payment into the past, as the services write it: the order and its lines."""
    Order.objects.filter(pk=order.pk).update(paid_at=at(when), order_date=at(when))
    OrderItem.objects.filter(order=order).update(paid_at=at(when))
    order.refresh_from_db()
    return order


def serve(order: Order, station: str, minutes: float) -> None:
    order_kitchen_status_set(order_id=order.pk, kitchen_status="cooking", station=station)
    order_kitchen_status_set(order_id=order.pk, kitchen_status="served", station=station)
    served_at = order.paid_at + timedelta(minutes=minutes)
    OrderItem.objects.filter(order=order, station=station).update(
        served_at=served_at, ticket_tenths=ticket_tenths(order.paid_at, served_at)
    )


@pytest.fixture
def night(settings):
    """A night from 06:00 on the 28th to 06:00 on the 29th, with what happens around it."""
    settings.BUSINESS_DAY_STARTS = "06:00"
    a1, b2 = TableFactory(name="A1"), TableFactory(name="B2")
    dish = FoodFactory(name="김치전", price=12000)
    beer = FoodFactory(name="생맥주", price=5000, category=Category.DRINKS)
    soju = FoodFactory(name="소주", price=4000, category=Category.DRINKS)

    early = paid(order_place(table_id=a1.pk, quantities={dish.pk: 2, beer.pk: 1}), "2026-11-28T18:10:00")
    late = paid(order_place(table_id=b2.pk, quantities={beer.pk: 3, soju.pk: 1}), "2026-11-28T23:50:00")
    payments.order_refund(order_id=late.pk, quantities={beer.pk: 1}, reason="품절")
    pre = payments.pre_order_create(table_id=a1.pk, payer_name="홍길동", total_amount=12000, quantities={dish.pk: 1})
    payments.order_confirm_payment(order_id=pre.pk)
    after_midnight = paid(Order.objects.get(pk=pre.pk), "2026-11-29T01:20:00")
    expired = payments.pre_order_create(table_id=b2.pk, payer_name="김철수", total_amount=4000, quantities={soju.pk: 1})
    Order.objects.filter(pk=expired.pk).update(status=OrderStatus.CANCELLED, order_date=at("2026-11-28T20:00:00"))
    pending = payments.pre_order_create(table_id=b2.pk, payer_name="이영희", total_amount=5000, quantities={beer.pk: 1})
    Order.objects.filter(pk=pending.pk).update(order_date=at("2026-11-29T02:00:00"))
    paid(order_place(table_id=a1.pk, quantities={dish.pk: 5}), "2026-11-29T06:30:00")  # the next night
    paid(order_place(table_id=a1.pk, quantities={dish.pk: 7}), "2026-11-28T05:59:00")  # the night before

    serve(early, "kitchen", 10)
    serve(early, "bar", 2)
    serve(late, "bar", 5)
    for outcome, when in [("matched", "2026-11-28T19:00:00"), ("unmatched", "2026-11-29T03:00:00")]:
        event = PaymentEvent.objects.create(trace_id=f"t-{outcome}", kind="deposit", outcome=outcome, raw={})
        PaymentEvent.objects.filter(pk=event.pk).update(received_at=at(when))
    return {"early": early, "late": late, "after_midnight": after_midnight}


def counted_orders():
    """The independent computation: every completed order paid within the night, read row by row."""
    start, end = at("2026-11-28T06:00:00"), at("2026-11-29T06:00:00")
    return [o for o in Order.objects.all() if o.status == "completed" and start <= o.paid_at < end]


def test_the_totals_are_the_orders_own(staff_api, night):
    report = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()
    orders = counted_orders()

    assert report["date"] == NIGHT
    assert report["from"] == "2026-11-28T06:00:00+09:00" and report["to"] == "2026-11-29T06:00:00+09:00"
    assert report["orders"] == len(orders) == 3
    assert report["gross"] == sum(o.total_amount for o in orders) == 29000 + 19000 + 12000
    assert report["refunds"] == sum(o.refunded_amount for o in orders) == 5000
    assert report["net"] == report["gross"] - report["refunds"] == 55000
    assert report["pending_pre_orders"] == 1


@pytest.mark.parametrize("name", ["=1+2", "+82-10", "-3+3", "@SUM(A1)", "\t=1", '=HYPERLINK("x")'])
def test_a_payer_name_is_never_a_formula_in_the_csv(staff_api, name):
    dish = FoodFactory(price=12000)
    order = payments.pre_order_create(
        table_id=TableFactory().pk, payer_name=name, total_amount=12000, quantities={dish.pk: 1}
    )
    payments.order_confirm_payment(order_id=order.pk)

    raw = staff_api.get("/api/reports/night.csv").content.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(raw)))[1]

    assert row[3] == "'" + name
    assert row[6:] == ["1", "12000", "0", "12000"]  # numbers stay numbers


def test_a_pre_order_waiting_across_the_turn_of_the_day_is_pending_in_both_nights(staff_api, settings):
    settings.BUSINESS_DAY_STARTS = "06:00"
    dish = FoodFactory(price=12000)
    waiting = payments.pre_order_create(
        table_id=TableFactory().pk, payer_name="홍길동", total_amount=12000, quantities={dish.pk: 1}
    )
    Order.objects.filter(pk=waiting.pk).update(
        order_date=at("2026-11-29T05:50:00"), expires_at=at("2026-11-29T06:20:00")
    )
    pending = {
        day: staff_api.get(f"/api/reports/night/?date={day}").json()["pending_pre_orders"]
        for day in ("2026-11-27", NIGHT, "2026-11-29", "2026-11-30")
    }
    assert pending == {"2026-11-27": 0, NIGHT: 1, "2026-11-29": 1, "2026-11-30": 0}


def test_sales_by_hour_run_past_midnight_and_add_up(staff_api, night):
    report = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()

    by_hour = {row["hour"]: row for row in report["by_hour"]}
    assert report["by_hour"][0]["hour"] == "2026-11-28T18:00:00+09:00"
    assert report["by_hour"][-1]["hour"] == "2026-11-29T01:00:00+09:00"
    assert len(report["by_hour"]) == 8  # 18:00 to 01:00, quiet hours included as zeros
    assert by_hour["2026-11-28T18:00:00+09:00"] == {"hour": "2026-11-28T18:00:00+09:00", "orders": 1, "net": 29000}
    assert by_hour["2026-11-28T23:00:00+09:00"]["net"] == 19000 - 5000
    assert by_hour["2026-11-29T01:00:00+09:00"]["net"] == 12000
    assert by_hour["2026-11-28T20:00:00+09:00"] == {"hour": "2026-11-28T20:00:00+09:00", "orders": 0, "net": 0}
    assert sum(row["net"] for row in report["by_hour"]) == report["net"]
    assert sum(row["orders"] for row in report["by_hour"]) == report["orders"]


def test_a_day_starting_on_the_half_hour_keeps_its_first_and_last_hour_apart(staff_api, settings):
    settings.BUSINESS_DAY_STARTS = "06:30"
    table, dish = TableFactory(), FoodFactory(price=1000)
    for when, quantity in [("2026-11-28T06:40:00", 1), ("2026-11-28T07:10:00", 2), ("2026-11-29T06:10:00", 3)]:
        paid(order_place(table_id=table.pk, quantities={dish.pk: quantity}), when)
    paid(order_place(table_id=table.pk, quantities={dish.pk: 4}), "2026-11-29T06:35:00")  # the next day

    report = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()

    hours = [(row["hour"], row["orders"], row["net"]) for row in report["by_hour"]]
    assert len(hours) == 25  # 06:00 of the 28th to 06:00 of the 29th, both partly in the day
    assert hours[:2] == [("2026-11-28T06:00:00+09:00", 1, 1000), ("2026-11-28T07:00:00+09:00", 1, 2000)]
    assert hours[-1] == ("2026-11-29T06:00:00+09:00", 1, 3000)
    assert report["net"] == 6000


def test_top_items_and_stations_agree_with_the_lines_and_refunds(staff_api, night):
    report = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()
    orders = counted_orders()
    lines = [line for o in orders for line in o.items.all()]
    refunds = [r for o in orders for r in o.refunds.all()]

    expected_items = {}
    for line in lines:
        row = expected_items.setdefault(line.food_id, {"name": line.food_name, "quantity": 0, "net": 0})
        row["quantity"] += line.quantity
        row["net"] += line.quantity * line.unit_price
    for refund in refunds:
        expected_items[refund.food_id]["net"] -= refund.amount
    assert {r["food_id"]: {k: r[k] for k in ("name", "quantity", "net")} for r in report["top_items"]} == expected_items
    assert [r["name"] for r in report["top_items"]] == ["생맥주", "김치전", "소주"]  # by quantity: 4, 3, 1

    assert report["by_station"] == [
        {"station": "kitchen", "quantity": 3, "net": 36000},
        {"station": "bar", "quantity": 5, "net": 5000 + 15000 + 4000 - 5000},
    ]
    assert sum(row["net"] for row in report["by_station"]) == report["net"]


def test_ticket_times_are_paid_to_served_over_served_lines(staff_api, night):
    report = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()

    # Served lines: 김치전 10 min, 생맥주 2 min (early), 생맥주 and 소주 5 min (late).
    seconds = sorted([600, 120, 300, 300])
    assert report["ticket_seconds"]["avg"] == pytest.approx(sum(seconds) / len(seconds), abs=0.1)
    assert report["ticket_seconds"]["p90"] == pytest.approx(600, abs=0.1)


def test_the_ninetieth_percentile_is_the_nearest_rank_to_a_tenth_of_a_second(staff_api, settings):
    settings.BUSINESS_DAY_STARTS = "06:00"
    table, dish = TableFactory(), FoodFactory(price=1000)
    # 37 served lines: the nearest rank, ceil(0.9 * 37) = 34, is 1000.99 s, between 800.2 and 1799.5
    took = [61.23, 300.98, 45.07, 600.04, 12.91, 240.55] * 5 + [100.0, 700.11, 800.2, 1000.99] + [1799.5] * 3
    for n, seconds in enumerate(took):
        order = paid(order_place(table_id=table.pk, quantities={dish.pk: 1}), f"2026-11-28T20:{n:02d}:00")
        served_at = order.paid_at + timedelta(seconds=seconds)
        OrderItem.objects.filter(order=order).update(
            kitchen_status="served", served_at=served_at, ticket_tenths=ticket_tenths(order.paid_at, served_at)
        )
    paid(order_place(table_id=table.pk, quantities={dish.pk: 1}), "2026-11-28T21:00:00")  # not served yet

    report = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()

    nearest_rank = sorted(took)[-(-9 * len(took) // 10) - 1]
    assert nearest_rank == 1000.99
    assert report["ticket_seconds"]["p90"] == 1001.0  # to the tenth
    assert report["ticket_seconds"]["avg"] == pytest.approx(sum(took) / len(took), abs=0.1)


def test_every_line_carries_its_order_payment_time(night):
    """The report reads a line's paid_at and ticket time instead of its order's: they must never differ."""
    for order in Order.objects.prefetch_related("items"):
        assert {line.paid_at for line in order.items.all()} == {order.paid_at}, order.status
    for line in OrderItem.objects.all():
        expected = ticket_tenths(line.paid_at, line.served_at) if line.served_at else None
        assert line.ticket_tenths == expected


def test_the_services_write_the_times_the_report_reads(staff_api):
    """Built through the services alone (no helper writes a line): a direct order, pre-orders confirmed by
    staff, matched by a deposit and revived after expiry, served, one recalled. The report's ticket times
    and sums agree with the orders' own payment and serving times."""
    table, dish = TableFactory(name="A1"), FoodFactory(name="김치전", price=12000)
    beer = FoodFactory(name="생맥주", price=5000, category=Category.DRINKS)
    direct = order_place(table_id=table.pk, quantities={dish.pk: 1, beer.pk: 2})
    confirmed = payments.pre_order_create(
        table_id=table.pk, payer_name="홍길동", total_amount=12000, quantities={dish.pk: 1}
    )
    payments.order_confirm_payment(order_id=confirmed.pk)
    matched = payments.pre_order_create(
        table_id=table.pk, payer_name="김철수", total_amount=5000, quantities={beer.pk: 1}
    )
    deposit("김철수", 5000)
    revived = payments.pre_order_create(
        table_id=table.pk, payer_name="이영희", total_amount=24000, quantities={dish.pk: 2}
    )
    payments.pre_orders_expire(now=timezone.now() + timedelta(hours=1))
    deposit("이영희", 24000)
    for order in (direct, confirmed, matched, revived):
        order_kitchen_status_set(order_id=order.pk, kitchen_status="cooking")
        order_kitchen_status_set(order_id=order.pk, kitchen_status="served")
    order_kitchen_status_set(order_id=revived.pk, kitchen_status="cooking")  # recalled: not served any more

    paid = dict(Order.objects.filter(status=OrderStatus.COMPLETED).values_list("pk", "paid_at"))
    assert set(paid) == {direct.pk, confirmed.pk, matched.pk, revived.pk}
    took = []
    for line in OrderItem.objects.all():
        assert line.paid_at == paid[line.order_id]
        if line.served_at is None:
            assert line.ticket_tenths is None
            continue
        seconds = (line.served_at - paid[line.order_id]).total_seconds()
        assert line.ticket_tenths == round(seconds * 10)
        took.append(seconds)
    assert len(took) == 4  # the revived order's line was recalled

    report = staff_api.get("/api/reports/night/").json()

    assert report["orders"] == 4
    assert report["ticket_seconds"]["avg"] == pytest.approx(sum(took) / len(took), abs=0.1)
    assert report["ticket_seconds"]["p90"] == pytest.approx(sorted(took)[-(-9 * len(took) // 10) - 1], abs=0.1)
    assert sum(row["quantity"] for row in report["by_station"]) == 1 + 2 + 1 + 1 + 2


def deposit(name: str, amount: int) -> None:
    body = json.dumps(deposit_body(name, amount), ensure_ascii=False).encode()
    event = payments.payment_event_handle(raw_body=body, trace_id=f"t-{name}")
    assert event.outcome == "matched", event.outcome


def test_payments_are_counted_by_outcome_within_the_night(staff_api, night):
    payments_row = staff_api.get(f"/api/reports/night/?date={NIGHT}").json()["payments"]
    assert payments_row == {
        "matched": 1,
        "unmatched": 1,
        "ambiguous": 0,
        "needs_refund": 0,
        "duplicate": 0,
        "ignored": 0,
    }


def test_a_quiet_night_is_all_zeros(staff_api, settings):
    report = staff_api.get("/api/reports/night/?date=2020-01-01").json()
    assert (report["orders"], report["gross"], report["net"], report["by_hour"]) == (0, 0, 0, [])
    assert report["ticket_seconds"] == {"avg": None, "p90": None}
    assert report["top_items"] == []
    assert [row["net"] for row in report["by_station"]] == [0, 0]


def test_without_a_date_the_report_is_of_the_current_business_day(staff_api, settings):
    settings.BUSINESS_DAY_STARTS = "06:00"
    report = staff_api.get("/api/reports/night/").json()
    now = datetime.now(SEOUL)
    expected = (now - timedelta(hours=6)).date().isoformat()
    assert report["date"] == expected


@pytest.mark.parametrize(
    "value", ["2026-13-01", "yesterday", "2026-11-31", "", "20261128", "0001-01-01", "9999-12-31", "0999-12-31"]
)
def test_a_malformed_date_or_one_no_database_holds_is_400(staff_api, value):
    assert_error(staff_api.get(f"/api/reports/night/?date={value}"), 400, "invalid_date")
    assert_error(staff_api.get(f"/api/reports/night.csv?date={value}"), 400, "invalid_date")
    assert_error(staff_api.get(f"/api/reports/night.csv?date={value}", HTTP_ACCEPT="text/csv"), 400, "invalid_date")


@pytest.mark.parametrize("accept", ["text/csv", "text/csv, */*;q=0.1", "application/json", "*/*"])
def test_the_csv_is_served_whatever_the_client_accepts(staff_api, api, accept):
    response = staff_api.get("/api/reports/night.csv", HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert_error(api.get("/api/reports/night.csv", HTTP_ACCEPT=accept), 401, "not_authenticated")


@pytest.mark.parametrize("value", ["1000-01-02", "9999-12-30"])
def test_the_first_and_last_days_a_database_holds_are_empty_nights(staff_api, value):
    for path in ("/api/reports/night/", "/api/reports/night.csv"):
        assert staff_api.get(f"{path}?date={value}").status_code == 200, path
    assert staff_api.get(f"/api/reports/night/?date={value}").json()["orders"] == 0


def test_reports_are_staff_only(api):
    guest = APIClient()
    guest.force_authenticate(StaffFactory(is_staff=False))
    assert_error(api.get("/api/reports/night/"), 401, "not_authenticated")
    assert_error(guest.get("/api/reports/night.csv"), 403, "permission_denied")


def test_the_csv_has_one_row_per_line_with_a_bom_and_the_korean_intact(staff_api, night):
    response = staff_api.get(f"/api/reports/night.csv?date={NIGHT}")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"] and NIGHT in response["Content-Disposition"]
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
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
    expected = []
    for order in sorted(counted_orders(), key=lambda o: o.paid_at):
        refunded = {}
        for refund in order.refunds.all():
            refunded[refund.food_id] = refunded.get(refund.food_id, 0) + refund.quantity
        for line in order.items.order_by("id"):
            back = refunded.get(line.food_id, 0)
            expected.append(
                [
                    order.order_number,
                    order.paid_at.astimezone(SEOUL).isoformat(),
                    order.table.name,
                    order.payer_name,
                    line.food_name,
                    line.station,
                    str(line.quantity),
                    str(line.unit_price),
                    str(back),
                    str((line.quantity - back) * line.unit_price),
                ]
            )
    assert rows[1:] == expected
    assert sum(int(row[9]) for row in rows[1:]) == staff_api.get(f"/api/reports/night/?date={NIGHT}").json()["net"]
    assert "홍길동" in {row[3] for row in rows[1:]}


def test_a_refund_keeps_the_station_of_its_line(night):
    assert Refund.objects.get().station == "bar"
    assert Refund.objects.aggregate(s=Sum("amount"))["s"] == 5000


def test_the_command_prints_the_same_night(night, capsys):
    call_command("night_report", "--date", NIGHT)
    printed = capsys.readouterr().out
    assert "2026-11-28" in printed and "55,000" in printed and "생맥주" in printed
