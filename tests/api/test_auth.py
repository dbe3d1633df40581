"""Staff authentication: token, session, and 401/403 on every staff endpoint (CONTRACT.md section 2)."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.factories import OrderFactory
from tests.api.helpers import assert_error
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-staff-1234"  # tests.factories.StaffFactory


@pytest.fixture
def order(table, food):
    return OrderFactory(table=table, lines=[(food, 1)])


def staff_requests(table, food, order):
    """Every staff-only endpoint of the ordering core, with a body that would succeed for staff."""
    return [
        ("get", "/api/tables/", None),
        ("post", "/api/tables/create/", {"name": "Q1"}),
        # the table's order is an unserved ticket: only a forced reset succeeds
        ("delete", f"/api/tables/{table.pk}/orders/reset/?force=true", None),
        ("get", "/api/orders/history/", None),
        ("get", "/api/kitchen/orders/", None),
        ("patch", f"/api/orders/{order.pk}/kitchen-status/", {"kitchen_status": "cooking"}),
        ("patch", f"/api/foods/{food.pk}/", {"sold_out": True}),
    ]


ENDPOINTS = ["tables list", "table create", "table reset", "history", "kitchen list", "kitchen status", "food patch"]


def call(client, method, path, body):
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


# --- token ------------------------------------------------------------------------------------------


def test_token_for_staff_credentials(api, staff):
    response = api.post("/api/auth/token/", {"username": staff.username, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=staff).key}


def test_token_is_stable_and_opens_the_staff_api(api, staff):
    credentials = {"username": staff.username, "password": PASSWORD}
    first = api.post("/api/auth/token/", credentials, format="json").json()["token"]
    second = api.post("/api/auth/token/", credentials, format="json").json()["token"]
    assert first == second

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert client.get("/api/tables/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("staff-user", "wrong-password"), ("nobody", PASSWORD), ("staff-user", ""), ("inactive", PASSWORD)],
)
def test_wrong_credentials_are_400_invalid_credentials(api, username, password):
    StaffFactory(username="staff-user")
    StaffFactory(username="inactive", is_active=False)

    response = api.post("/api/auth/token/", {"username": username, "password": password}, format="json")

    if password == "":
        assert_error(response, 400, "invalid")  # a blank password is a missing field
    else:
        body = assert_error(response, 400, "invalid_credentials")
        assert set(body) == {"code", "detail"}
    assert Token.objects.count() == 0


@pytest.mark.parametrize("body", [{}, {"username": "staff-user"}, {"password": PASSWORD}, {"username": ["a"]}])
def test_token_request_without_fields_is_400_invalid(api, body):
    StaffFactory(username="staff-user")

    response = api.post("/api/auth/token/", body, format="json")

    assert_error(response, 400, "invalid")
    assert Token.objects.count() == 0


# --- 401 / 403 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(ENDPOINTS)), ids=ENDPOINTS)
def test_staff_endpoint_without_credentials_is_401(api, table, food, order, snapshot, index):
    method, path, body = staff_requests(table, food, order)[index]
    before = snapshot()

    response = call(api, method, path, body)

    body = assert_error(response, 401, "not_authenticated")
    assert set(body) == {"code", "detail"}
    assert response["WWW-Authenticate"] == "Token"
    assert snapshot() == before


@pytest.mark.parametrize("index", range(len(ENDPOINTS)), ids=ENDPOINTS)
def test_staff_endpoint_with_a_bad_token_is_401(table, food, order, snapshot, index):
    method, path, body = staff_requests(table, food, order)[index]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    before = snapshot()

    response = call(client, method, path, body)

    assert_error(response, 401, "authentication_failed")
    assert snapshot() == before


@pytest.mark.parametrize("index", range(len(ENDPOINTS)), ids=ENDPOINTS)
def test_staff_endpoint_with_a_non_staff_token_is_403(api, guest, table, food, order, snapshot, index):
    token = api.post("/api/auth/token/", {"username": guest.username, "password": PASSWORD}, format="json")
    assert token.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    method, path, body = staff_requests(table, food, order)[index]
    before = snapshot()

    response = call(client, method, path, body)

    body = assert_error(response, 403, "permission_denied")
    assert set(body) == {"code", "detail"}
    assert snapshot() == before


@pytest.mark.parametrize("index", range(len(ENDPOINTS)), ids=ENDPOINTS)
def test_staff_endpoint_with_a_staff_token_succeeds(staff_api, table, food, order, index):
    method, path, body = staff_requests(table, food, order)[index]

    response = call(staff_api, method, path, body)

    assert response.status_code in {200, 201}, response.content


# --- session ----------------------------------------------------------------------------------------


def test_staff_session_login_opens_the_staff_api(staff, table, food, order):
    client = APIClient()
    assert client.login(username=staff.username, password=PASSWORD)

    assert client.get("/api/tables/").status_code == 200
    assert client.get("/api/kitchen/orders/").status_code == 200
    response = client.patch(f"/api/orders/{order.pk}/kitchen-status/", {"kitchen_status": "cooking"}, format="json")
    assert response.status_code == 200
    assert response.json()["kitchen_status"] == "cooking"


def test_non_staff_session_is_403(guest, table):
    client = APIClient()
    assert client.login(username=guest.username, password=PASSWORD)

    response = client.get("/api/tables/")

    assert_error(response, 403, "permission_denied")


def test_session_write_without_csrf_token_is_403_csrf_failed(staff, food, snapshot):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=staff.username, password=PASSWORD)
    before = snapshot()

    response = client.patch(f"/api/foods/{food.pk}/", {"sold_out": True}, format="json")

    assert_error(response, 403, "csrf_failed")
    assert snapshot() == before


def test_session_write_with_csrf_token_succeeds(staff, food):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=staff.username, password=PASSWORD)
    token = "k" * 32  # the cookie a staff page gets, echoed in the header by the page's script
    client.cookies["csrftoken"] = token

    response = client.patch(f"/api/foods/{food.pk}/", {"sold_out": True}, format="json", HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200
    food.refresh_from_db()
    assert food.sold_out is True


def test_public_endpoints_need_no_credentials(api, table, food):
    assert api.get("/api/foods/").status_code == 200
    assert api.get(f"/api/foods/{food.pk}/").status_code == 200
    assert api.get(f"/api/tables/{table.pk}/").status_code == 200
    assert api.get(f"/api/tables/{table.pk}/orders/").status_code == 200
    body = {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}
    assert api.post("/api/orders/", body, format="json").status_code == 201
