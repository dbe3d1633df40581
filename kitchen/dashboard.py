"""`/staff/dashboard/` (CONTRACT.md sections 7 and 9): the night at a glance. The page is a shell; its figures
come from `GET /api/reports/night/` and are fetched again when the staff feed says an order or a payment
changed."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@staff_member_required(login_url=settings.LOGIN_URL)
@ensure_csrf_cookie
def staff_dashboard_page(request):
    return render(request, "kitchen/dashboard.html")
