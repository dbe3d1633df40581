"""/admin/ in Korean (CONTRACT.md section 7), with staff actions and payment records read-only there."""

import re

import pytest
from django.test import Client

from core import audit
from core.models import StaffAction
from kitchen.models import StaffCall
from payments.models import PaymentEvent
from tests.factories import StaffFactory, TableFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/ordering/food/",
    "/admin/ordering/table/",
    "/admin/ordering/order/",
    "/admin/kitchen/staffcall/",
    "/admin/core/staffaction/",
    "/admin/payments/paymentevent/",
    "/admin/payments/payactionregistration/",
]


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.mark.parametrize("path", CHANGELISTS)
def test_every_changelist_speaks_korean(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    headers = re.findall(r'<th scope="col"[^>]*>.*?<(?:a|span)[^>]*>([^<]*)<', response.content.decode(), re.S)
    assert headers, "no column headers found"
    english = [h for h in headers if re.search(r"[A-Za-z]", h) and h.strip() != "ID"]
    assert english == [], english


def test_the_admin_index_names_every_app_in_korean(admin_client):
    page = admin_client.get("/admin/").content.decode()
    captions = re.findall(r"<caption>\s*<a[^>]*>([^<]*)</a>", page)
    assert captions and all(not re.search(r"[A-Za-z]", c) for c in captions), captions


def test_staff_actions_are_listed_by_their_korean_names_with_what_changed(admin_client):
    from rest_framework.test import APIClient

    from ordering.services import order_place
    from tests.factories import FoodFactory, TableFactory

    order = order_place(table_id=TableFactory(name="B2").pk, quantities={FoodFactory().pk: 1})
    cook = StaffFactory(username="주방장")
    api = APIClient()
    api.force_authenticate(cook)
    api.patch(f"/api/orders/{order.pk}/kitchen-status/", {"kitchen_status": "cooking"}, format="json")

    page = admin_client.get("/admin/core/staffaction/").content.decode()

    assert "조리 상태 변경" in page and "kitchen_status: cooking" in page and "주방장" in page
    assert "축제 주점 관리" in page
    assert set(StaffAction.objects.values_list("action", flat=True)) <= set(StaffAction.Action.values)


def test_staff_actions_cannot_be_changed_or_deleted(admin_client):
    audit.record(None, "table_reset", "A1")
    action = StaffAction.objects.get()

    assert admin_client.get(f"/admin/core/staffaction/{action.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/core/staffaction/{action.pk}/change/", {"action": "x"}).status_code == 403
    assert admin_client.get("/admin/core/staffaction/add/").status_code == 403
    assert StaffAction.objects.get().action == "table_reset"


def test_payment_events_cannot_be_changed_or_deleted(admin_client):
    """The audit trail of money: a deleted delivery would let PayAction's retry of it pay another order."""
    event = PaymentEvent.objects.create(
        trace_id="TRACE-1", kind="deposit", transaction_name="홍길동", amount=9000, outcome="unmatched"
    )

    assert admin_client.get(f"/admin/payments/paymentevent/{event.pk}/delete/").status_code == 403
    bulk = admin_client.post(
        "/admin/payments/paymentevent/", {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert PaymentEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    ("path", "title"),
    [("/admin/payments/paymentevent/", "입금 알림 목록"), ("/admin/core/staffaction/", "직원 작업 기록 목록")],
)
def test_a_read_only_list_is_titled_in_plain_korean(admin_client, path, title):
    html = admin_client.get(path).content.decode()

    assert f"<h1>{title}</h1>" in html
    assert "보기위한" not in html


def test_the_staff_call_list_says_who_acknowledged_each_call(admin_client):
    StaffCall.objects.create(table=TableFactory(), message="물 주세요")

    html = admin_client.get("/admin/kitchen/staffcall/").content.decode()

    assert "확인 시각" in html and "확인한 직원" in html
