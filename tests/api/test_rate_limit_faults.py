import pytest

from ordering.models import Order
from tests.factories import FoodFactory, TableFactory

DEAD_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


@pytest.mark.django_db
def test_an_order_goes_through_when_the_rate_limit_counters_are_unreachable(api, settings, caplog):
    settings.THROTTLE_ENABLED = True
    settings.CACHES = DEAD_REDIS  # nothing listens on port 1: every counter read fails
    table, food = TableFactory(), FoodFactory()

    response = api.post(
        "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}, format="json"
    )

    assert response.status_code == 201
    assert Order.objects.filter(pk=response.json()["id"]).exists()
    assert any(record.getMessage() == "rate limit unavailable, request allowed" for record in caplog.records)


@pytest.mark.django_db
def test_staff_can_log_in_when_the_login_counters_are_unreachable(api, staff, settings, caplog):
    settings.THROTTLE_ENABLED = True
    settings.CACHES = DEAD_REDIS

    wrong = api.post("/api/auth/token/", {"username": staff.username, "password": "guess"}, format="json")
    right = api.post("/api/auth/token/", {"username": staff.username, "password": "pw-staff-1234"}, format="json")

    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_credentials"
    assert right.status_code == 200 and right.json()["token"]
    assert any(record.getMessage().startswith("login limits unavailable") for record in caplog.records)
