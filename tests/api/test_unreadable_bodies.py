"""A body that cannot be read is 400 parse_error on every endpoint, with the rate limits on as in production
(they read the table id from the body) and for nesting deeper than the parser goes."""

import pytest

from tests.api.helpers import assert_error

pytestmark = pytest.mark.django_db

DEEP = "[" * 20_000 + "]" * 20_000


@pytest.fixture(autouse=True)
def limits_on(settings):
    settings.THROTTLE_ENABLED = True


@pytest.mark.parametrize("raw", ["{bad", DEEP, '{"table_id": ' + DEEP + "}"], ids=["broken", "deep", "deep inside"])
def test_an_unreadable_order_is_400_parse_error_with_the_limits_on(api, raw, snapshot):
    before = snapshot()
    response = api.generic("POST", "/api/orders/", raw, content_type="application/json")
    assert_error(response, 400, "parse_error")
    assert snapshot() == before


def test_an_unreadable_cart_is_400_parse_error(api, table):
    body = '{"items": ' + DEEP + ', "version": 0}'
    response = api.generic("PUT", f"/api/tables/{table.pk}/cart/", body, content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_an_unreadable_staff_write_is_400_parse_error(staff_api, food):
    response = staff_api.generic(
        "PATCH", f"/api/foods/{food.pk}/", DEEP, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep"
    )
    assert_error(response, 400, "parse_error")


def test_a_null_body_is_400_invalid_in_korean(api, snapshot):
    before = snapshot()
    response = api.generic("POST", "/api/orders/", "null", content_type="application/json")
    body = assert_error(response, 400, "invalid")
    assert body["errors"] == {"non_field_errors": ["입력값이 없습니다. JSON 객체를 보내 주세요."]}
    assert snapshot() == before
