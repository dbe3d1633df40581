"""GET /healthz, the OpenAPI schema and Swagger UI, and the JSON error body outside views."""

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_healthz(api, settings):
    settings.BANK_ACCOUNT_NO = "100-200-300"
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_healthz_warns_of_a_missing_bank_account_but_stays_healthy(api, settings):
    settings.BANK_ACCOUNT_NO = ""
    response = api.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert any("BANK_ACCOUNT_NO" in warning for warning in response.json()["warnings"])


def test_openapi_schema_describes_the_ordering_endpoints(api):
    response = api.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/foods/",
        "/api/foods/{food_id}/",
        "/api/tables/",
        "/api/tables/create/",
        "/api/tables/{table_id}/",
        "/api/tables/{table_id}/orders/",
        "/api/tables/{table_id}/orders/reset/",
        "/api/tables/{table_id}/call-staff/",
        "/api/orders/",
        "/api/orders/history/",
        "/api/kitchen/orders/",
        "/api/orders/{order_id}/kitchen-status/",
        "/api/auth/token/",
        "/api/tables/{table_id}/open/",
        "/api/tables/{table_id}/close/",
        "/api/staff-calls/",
        "/api/staff-calls/{call_id}/ack/",
    ]:
        assert path in paths, path
    assert set(paths["/api/foods/{food_id}/"]) >= {"get", "patch"}
    assert "delete" in paths["/api/tables/{table_id}/orders/reset/"]


def test_openapi_schema_default_format(api):
    response = api.get("/api/schema/")

    assert response.status_code == 200
    assert b"openapi: 3" in response.content


def test_swagger_ui(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema/" in response.content
    # Served by the app itself (a venue may have no internet): no script or style from another host.
    assert b"cdn." not in response.content and b"https://" not in response.content


def test_redoc_is_served_by_the_app(api):
    response = api.get("/api/redoc/")

    assert response.status_code == 200
    assert b"/api/schema/" in response.content
    assert b"https://" not in response.content


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/no-such-thing/", 404, "not_found"),
        ("get", "/api/foods", 404, "not_found"),  # no slash: JSON 404, never a redirect
        ("delete", "/api/foods/", 405, "method_not_allowed"),
        ("put", "/api/orders/", 405, "method_not_allowed"),
    ],
)
def test_api_errors_outside_views_are_json(api, method, path, status, code):
    response = getattr(api, method)(path)

    assert_error(response, status, code)


def test_the_api_reference_in_the_repository_is_current():
    from pathlib import Path

    from django.conf import settings

    from core.management.commands.api_reference import reference

    written = (Path(settings.BASE_DIR) / "docs" / "api.md").read_text()
    assert written == reference(), "regenerate: uv run python manage.py api_reference > docs/api.md"


def test_a_bad_token_on_the_schema_is_the_apis_own_401():
    # The schema view renders YAML; its 401 is still the contract's JSON with DRF's own code.
    response = APIClient(HTTP_AUTHORIZATION="Token bad").get("/api/schema/")

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "authentication_failed", "detail": "인증 정보가 올바르지 않습니다."}
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/nope", "/healthz/nope"])
def test_an_unknown_api_path_is_a_json_404_even_with_debug_on(settings, path):
    settings.DEBUG = True  # make dev's: Django's own 404 page would list every URL pattern

    response = APIClient().get(path)

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "찾을 수 없습니다."}
