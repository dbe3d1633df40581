"""Pages of CONTRACT.md section 7. They render a shell; live data comes from the API and the sockets."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from kitchen.selectors import table_qr_list
from ordering import selectors
from ordering.errors import NotFound
from ordering.models import Station


@ensure_csrf_cookie
def table_page(request, table_id):
    try:
        table = selectors.table_get(table_id=table_id)
    except NotFound:
        return render(request, "ordering/table_missing.html", status=404)
    # The page shows a wait screen while the table is closed, but only when opening is required.
    required = settings.TABLE_OPENING_REQUIRED
    context = {"table": table, "opening_required": required, "closed": required and not table.is_open}
    return render(request, "ordering/table.html", context)


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def kitchen_page(request):
    station = request.GET.get("station") or ""
    if station not in Station.values:
        station = ""  # no (or an unknown) station: the expo view of whole tickets
    return render(
        request,
        "kitchen/board.html",
        {
            "warn_minutes": settings.KITCHEN_WARN_MINUTES,
            "late_minutes": settings.KITCHEN_LATE_MINUTES,
            "station": station,
            "station_label": Station(station).label if station else "전체",
            "stations": Station.choices,
        },
    )


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def staff_menu_page(request):
    return render(request, "kitchen/staff_menu.html")


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def staff_tables_page(request):
    tables = table_qr_list(base_url=request.build_absolute_uri("/"))
    return render(
        request,
        "kitchen/staff_tables.html",
        {"tables": tables, "opening_required": settings.TABLE_OPENING_REQUIRED},
    )
