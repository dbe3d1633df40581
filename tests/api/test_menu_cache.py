"""The menu is cached (the hottest read); every change made through the app is seen by the next read."""

import pytest

from ordering.models import Food
from tests.factories import FoodFactory, TableFactory


@pytest.mark.django_db(transaction=True)
def test_menu_reads_after_a_change_see_it_at_once(api, staff_api, django_assert_num_queries):
    food = FoodFactory(price=10000, stock=2)
    table = TableFactory()
    assert api.get("/api/foods/").json()[0]["price"] == 10000
    with django_assert_num_queries(0):  # served from the cache
        assert api.get("/api/foods/").json()[0]["price"] == 10000

    staff_api.patch(f"/api/foods/{food.pk}/", {"price": 12000}, format="json")
    assert api.get("/api/foods/").json()[0]["price"] == 12000

    api.post("/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 2}]}, format="json")
    menu = api.get("/api/foods/").json()
    assert (menu[0]["stock"], menu[0]["sold_out"]) == (0, True)
    assert Food.objects.get(pk=food.pk).stock == 0


@pytest.mark.django_db(transaction=True)
def test_menu_is_read_from_the_database_when_the_cache_is_down(api, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }  # nothing listens on port 1
    food = FoodFactory(price=7000)

    response = api.get("/api/foods/")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [food.pk]
