"""Reads for the staff screens: the floor, the calls, the QR codes. Fixed query counts, whatever the number
of tables or the length of the night."""

import ipaddress
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from kitchen.models import StaffCall
from kitchen.serializers import StaffCallSerializer
from ordering import events
from ordering.menu import menu_current
from ordering.models import Order, OrderStatus, Table
from ordering.selectors import kitchen_open_orders, open_tickets, table_list, with_lines
from ordering.serializers import TableSerializer, order_render
from realtime import snapshots
from realtime.broadcast import feed_seqs


def table_page_url(table: Table, *, base_url: str) -> str:
    """The address phones open for a table: PUBLIC_BASE_URL when set, else the asking request's host."""
    return (settings.PUBLIC_BASE_URL or base_url).rstrip("/") + f"/t/{table.pk}/"


def loopback_host(url: str) -> str | None:
    """The host of `url` if only this machine can open it (localhost, 127.x, ::1): a QR of it is useless
    to a guest's phone."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL at all (a PUBLIC_BASE_URL mistyped): nothing to say about its host
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return host
    try:
        return host if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


def table_qr_svg(url: str) -> str:
    """An inline SVG QR code (scales with CSS through its viewBox; prints sharp)."""
    qr = segno.make(url, error="m")
    return qr.svg_inline(scale=1, border=2, dark="#111", omitsize=True, svgclass="qr", lineclass=None)


def table_qr_list(*, base_url: str) -> list[tuple[Table, str, str]]:
    """(table, its page's address, QR SVG of it) for every table, by name: the printable QR sheet."""
    rows = []
    for table in Table.objects.order_by("name"):
        url = table_page_url(table, base_url=base_url)
        rows.append((table, url, table_qr_svg(url)))
    return rows


def _count(queryset: QuerySet) -> Coalesce:
    """A per-table count as a correlated subquery: one query for every table, none per table."""
    counted = queryset.filter(table=OuterRef("pk")).order_by().values("table").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def floor_tables() -> list[Table]:
    """Every table as GET /api/tables/ lists it (with its session's total), with open tickets, unpaid
    pre-orders (a reset's too: they can still be paid) and open calls. One query."""
    return list(
        table_list().annotate(
            open_tickets=_count(open_tickets()),
            pending_pre_orders=_count(Order.objects.filter(status=OrderStatus.PRE_ORDER)),
            open_calls=_count(StaffCall.objects.filter(acked_at__isnull=True)),
        )
    )


def pending_pre_orders() -> list[Order]:
    return with_lines(Order.objects.filter(status=OrderStatus.PRE_ORDER).order_by("order_date", "id"))


def staff_calls(*, open_only: bool = False) -> QuerySet[StaffCall]:
    """Newest first. Open calls are all returned (they wait for someone); history is bounded."""
    calls = StaffCall.objects.select_related("table", "acked_by").order_by("-created_at", "-id")
    return calls.filter(acked_at__isnull=True) if open_only else calls[:500]


def _open_calls() -> list[dict]:
    return StaffCallSerializer(staff_calls(open_only=True), many=True).data


def kitchen_snapshot(*, station: str | None = None) -> dict:
    """/ws/kitchen/'s snapshot: with a station, only tickets with an unserved line of it."""
    seq = feed_seqs([events.GROUP_KITCHEN])[events.GROUP_KITCHEN]  # first: the state read after is as new
    menu = menu_current()
    return {
        "seq": seq,
        "menu_version": menu.version,
        "orders": [order_render(order) for order in kitchen_open_orders(station=station)],
        "foods": menu.foods,
        "calls": _open_calls(),
    }


def staff_snapshot() -> dict:
    """/ws/staff/'s snapshot: the floor, in a fixed number of queries whatever the number of tables."""
    seq = feed_seqs([events.GROUP_STAFF])[events.GROUP_STAFF]
    menu = menu_current()
    floor = floor_tables()
    tables = [
        {
            **row,
            "open_tickets": table.open_tickets,
            "pending_pre_orders": table.pending_pre_orders,
            "open_calls": table.open_calls,
        }
        for table, row in zip(floor, TableSerializer(floor, many=True).data, strict=True)
    ]
    return {
        "seq": seq,
        "menu_version": menu.version,
        "tables": tables,
        "pending_pre_orders": [order_render(order) for order in pending_pre_orders()],
        "calls": _open_calls(),
        # Beyond the contract's keys: the open tickets themselves, so the floor shows their age and keeps
        # its counts true from the events that follow.
        "orders": [order_render(order) for order in kitchen_open_orders()],
        **snapshots.parts(events.GROUP_STAFF),  # payments: "payments", the deliveries needing attention
    }


def staff_call_by_client_key(*, client_key: str) -> StaffCall | None:
    """The call a guest's Idempotency-Key made (StaffCall.client_key), or None."""
    return StaffCall.objects.filter(client_key=client_key).first()
