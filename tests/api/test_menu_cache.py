"""The menu is rendered once per version (the hottest read); every change made through the app is seen by
the next read, and an unchanged menu is answered 304."""

import asyncio
import time

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


@pytest.mark.django_db(transaction=True)
def test_the_menu_has_an_etag_and_an_unchanged_menu_is_answered_304(api, staff_api):
    food = FoodFactory(price=10000)
    first = api.get("/api/foods/")
    etag = first["ETag"]
    assert first["Cache-Control"] == "no-cache"  # asked again every time, answered cheaply

    unchanged = api.get("/api/foods/", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    staff_api.patch(f"/api/foods/{food.pk}/", {"sold_out": True}, format="json")
    changed = api.get("/api/foods/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed.json()[0]["sold_out"] is True


@pytest.mark.django_db(transaction=True)
def test_each_category_has_its_own_etag(api):
    FoodFactory(category="menu")
    FoodFactory(category="drinks")

    menu, drinks = api.get("/api/foods/?category=menu"), api.get("/api/foods/?category=drinks")

    assert menu["ETag"] != drinks["ETag"]
    assert api.get("/api/foods/?category=drinks", HTTP_IF_NONE_MATCH=menu["ETag"]).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_change_made_around_the_app_is_seen_once_the_cache_seconds_pass(api, settings):
    settings.MENU_CACHE_SECONDS = 0.3
    food = FoodFactory(price=10000)
    assert api.get("/api/foods/").json()[0]["price"] == 10000
    Food.objects.filter(pk=food.pk).update(price=9000)  # as a seed command or SQL by hand would
    assert api.get("/api/foods/").json()[0]["price"] == 10000  # still the kept menu

    time.sleep(0.35)

    assert api.get("/api/foods/").json()[0]["price"] == 9000


@pytest.mark.django_db(transaction=True)
async def test_a_food_event_from_another_process_drops_the_kept_menu(settings):
    """Another process's change reaches this one only as its food.updated event through the channel layer."""
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from ordering.events import GROUP_MENU
    from ordering.menu import follow_changes, menu_current
    from realtime.broadcast import FORWARD, encode
    from realtime.hub import hub

    settings.MENU_CACHE_SECONDS = 60
    food = await sync_to_async(FoodFactory)(price=10000)
    await follow_changes()
    for _ in range(100):  # it joins in a task of its own
        if GROUP_MENU in hub().group_names():
            break
        await asyncio.sleep(0.01)
    assert (await sync_to_async(menu_current)()).foods[0]["price"] == 10000
    await sync_to_async(Food.objects.filter(pk=food.pk).update)(price=9000)  # the other process's write

    await get_channel_layer().group_send(GROUP_MENU, {"type": FORWARD, "text": encode("food.updated", food={})})
    for _ in range(100):
        menu = await sync_to_async(menu_current)()
        if menu.foods[0]["price"] == 9000:
            break
        await asyncio.sleep(0.01)

    assert menu.foods[0]["price"] == 9000
