"""Pages of CONTRACT.md section 7. They render a shell; live data comes from the API and the sockets."""

import json

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from kitchen import logins
from kitchen.selectors import loopback_host, table_qr_list
from ordering import selectors
from ordering.errors import NotFound
from ordering.models import Station


@ensure_csrf_cookie
def table_page(request, table_id):
    try:
        table = selectors.table_row(table_id=table_id)
    except NotFound:
        return render(request, "ordering/table_missing.html", status=404)
    # The page shows a wait screen while the table is closed, but only when opening is required.
    required = settings.TABLE_OPENING_REQUIRED
    context = {
        "table": table,
        "table_suffix": "" if table.name.endswith("테이블") else " 테이블",  # "야외 테이블", not "… 테이블 테이블"
        "opening_required": required,
        "closed": required and not table.is_open,
    }
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


def offline_worker(request, *, cache: str, page_pattern: str):
    """A page's service worker (offline reloads), served beside the page so that its scope covers it: the board
    at /kitchen/sw.js, a table's tab at /t/sw.js. One script for both, told its own cache and page paths.

    Not behind the login: it holds no data, and a browser refuses a worker script that redirects."""
    context = {"cache": cache, "page_pattern_json": json.dumps(page_pattern)}
    response = render(request, "offline_worker.js", context, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # a new release reaches the pages at their next load
    return response


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def staff_menu_page(request):
    return render(request, "kitchen/staff_menu.html")


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def staff_tables_page(request):
    base_url = request.build_absolute_uri("/")
    return render(
        request,
        "kitchen/staff_tables.html",
        {
            "tables": table_qr_list(base_url=base_url),
            "opening_required": settings.TABLE_OPENING_REQUIRED,
            "qr_loopback_host": loopback_host(settings.PUBLIC_BASE_URL or base_url),
        },
    )


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def staff_dashboard_page(request):
    """The night at a glance: its figures come from GET /api/reports/night/, fetched again when the staff feed
    says an order or a payment changed."""
    return render(request, "kitchen/dashboard.html")


class LoginView(auth_views.LoginView):
    """The staff login page, with the same failed-login limits as the API token (kitchen.logins)."""

    template_name = "accounts/login.html"

    def post(self, request, *args, **kwargs):
        username, address = request.POST.get("username", ""), request.META.get("REMOTE_ADDR", "")
        try:
            logins.check(address, username)
        except logins.TooManyAttempts as refused:
            context = self.get_context_data(form=self.get_form_class()(request), too_many_attempts=refused.detail)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        logins.succeeded(form.get_user().get_username())
        return super().form_valid(form)

    def form_invalid(self, form):
        if form.data.get("username") and form.data.get("password"):  # a wrong password, not an empty field
            logins.failed(self.request.META.get("REMOTE_ADDR", ""), form.data["username"])
        return super().form_invalid(form)
