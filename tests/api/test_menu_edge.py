"""Plain menu reads answered on the event loop (config.edge), through the real ASGI application.

Every answer must be what Django would give at that moment: a change made through the app is served by
the next read, whichever process made it (the version lives in the shared cache).
"""

import contextvars
import json
import time
from types import ModuleType

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.core import signals
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.urls import path
from rest_framework.authtoken.models import Token

from config.asgi import application
from config.edge import MenuEdge
from ordering import services
from ordering.apis import FoodListApi
from ordering.models import Food
from ordering.selectors import MENU_VERSION_KEY
from tests.factories import FoodFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _edge() -> MenuEdge:
    return application.application.application_mapping["http"]


@pytest.fixture(autouse=True)
def _no_kept_answers():
    _edge()._answers.clear()
    # A menu version exists, as after the first read of a running app (with none, reads go to Django).
    cache.set(MENU_VERSION_KEY, time.time_ns() // 1000, timeout=None)
    yield
    _edge()._answers.clear()


@pytest.fixture
def django_requests():
    """How many requests reached Django (its request_started signal)."""
    seen = []

    def receiver(**kwargs):
        seen.append(kwargs)

    signals.request_started.connect(receiver)
    yield seen
    signals.request_started.disconnect(receiver)


async def get(path: str, headers=None) -> tuple[int, dict, bytes]:
    path, _, query = path.partition("?")
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"localhost"), *(headers or [])])
    communicator.scope["query_string"] = query.encode()
    response = await communicator.get_response(timeout=5)
    headers = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    return response["status"], headers, response["body"]


async def test_a_repeated_plain_read_is_answered_without_django_with_its_own_request_id(django_requests):
    await sync_to_async(FoodFactory)(price=9000)

    first = await get("/api/foods/")
    second = await get("/api/foods/", headers=[(b"x-request-id", b"from-proxy-1")])

    assert len(django_requests) == 1
    assert second[0] == first[0] == 200
    assert second[2] == first[2]
    assert json.loads(second[2])[0]["price"] == 9000
    assert second[1]["content-type"] == "application/json"
    assert second[1]["x-request-id"] == "from-proxy-1"
    assert first[1]["x-request-id"] != second[1]["x-request-id"]
    assert {k: v for k, v in first[1].items() if k != "x-request-id"} == {
        k: v for k, v in second[1].items() if k != "x-request-id"
    }


async def test_each_category_keeps_its_own_answer(django_requests):
    await sync_to_async(FoodFactory)(name="김치전", category="menu")
    await sync_to_async(FoodFactory)(name="맥주", category="drinks")

    for _ in range(2):
        menu = json.loads((await get("/api/foods/?category=menu"))[2])
        drinks = json.loads((await get("/api/foods/?category=drinks"))[2])
        everything = json.loads((await get("/api/foods/"))[2])
        assert [food["name"] for food in menu] == ["김치전"]
        assert [food["name"] for food in drinks] == ["맥주"]
        assert sorted(food["name"] for food in everything) == ["김치전", "맥주"]
    assert len(django_requests) == 3


async def test_a_change_made_through_the_app_is_served_by_the_next_read():
    food = await sync_to_async(FoodFactory)(price=9000, stock=3)
    assert json.loads((await get("/api/foods/"))[2])[0]["price"] == 9000

    await sync_to_async(services.food_update)(food_id=food.pk, price=9500, sold_out=True)

    served = json.loads((await get("/api/foods/"))[2])[0]
    assert (served["price"], served["sold_out"]) == (9500, True)


async def test_a_change_announced_by_another_process_is_served_by_the_next_read(django_requests):
    """Another process changes the row and bumps the shared version; this process has nothing to hear."""
    food = await sync_to_async(FoodFactory)(price=9000)
    await get("/api/foods/")
    await get("/api/foods/")
    assert len(django_requests) == 1

    await sync_to_async(Food.objects.filter(pk=food.pk).update)(price=4000)
    await sync_to_async(cache.incr)(MENU_VERSION_KEY)

    assert json.loads((await get("/api/foods/"))[2])[0]["price"] == 4000
    assert len(django_requests) == 2


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/foods/?category=", [], 400),
        ("/api/foods/?category=beer", [], 400),
        ("/api/foods/?category=menu&x=1", [], 200),
        ("/api/foods/", [(b"authorization", b"Token not-a-real-token")], 401),
        ("/api/foods/", [(b"origin", b"http://localhost:8000")], 200),
    ],
)
async def test_other_reads_always_go_to_django(django_requests, path, headers, status):
    await sync_to_async(FoodFactory)(category="menu")
    await get("/api/foods/")
    await get("/api/foods/?category=menu")
    django_requests.clear()

    assert (await get(path, headers))[0] == status
    assert (await get(path, headers))[0] == status
    assert len(django_requests) == 2


async def test_a_staff_token_read_goes_to_django_and_gets_the_same_menu(django_requests):
    await sync_to_async(FoodFactory)(price=3000)
    token = await sync_to_async(lambda: Token.objects.create(user=StaffFactory()).key)()
    plain = await get("/api/foods/")
    staff = await get("/api/foods/", headers=[(b"authorization", f"Token {token}".encode())])
    assert staff[0] == 200 and staff[2] == plain[2]
    assert len(django_requests) == 2


async def test_with_the_edge_off_every_read_goes_to_django(django_requests, settings):
    settings.MENU_EDGE = False
    await sync_to_async(FoodFactory)()
    for _ in range(3):
        assert (await get("/api/foods/"))[0] == 200
    assert len(django_requests) == 3


async def test_when_the_version_cannot_be_read_django_answers_from_the_database(django_requests, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    settings.CACHES = {"default": {"BACKEND": "config.cache.SharedPoolRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}}
    food = await sync_to_async(FoodFactory)(price=7000)

    for _ in range(2):
        status, _, body = await get("/api/foods/")
        assert status == 200
        assert [item["id"] for item in json.loads(body)] == [food.pk]
    assert len(django_requests) == 2


@pytest.mark.skipif(not __import__("django.conf").conf.settings.REDIS_URL, reason="needs REDIS_URL (the CI run)")
def test_cache_objects_of_every_request_share_one_redis_connection():
    """Django makes a cache object per async context (Daphne: per request); they must not each connect."""
    import redis
    from django.conf import settings

    server = redis.Redis.from_url(settings.REDIS_URL)
    before = server.info("stats")["total_connections_received"]
    for n in range(30):
        contextvars.Context().run(lambda n=n: cache.set(f"edge-test-{n}", n))  # a fresh context each time
    after = server.info("stats")["total_connections_received"]
    server.close()
    assert after - before <= 1


def _menu_with_a_cookie(request):
    get_token(request)  # Django will send this client a CSRF cookie with its answer
    return FoodListApi.as_view()(request)


async def test_an_answer_that_sets_a_cookie_is_never_replayed(django_requests, settings):
    """A cookie belongs to the one client it was set for."""
    await sync_to_async(FoodFactory)()
    urls = ModuleType("menu_with_a_cookie_urls")
    urls.urlpatterns = [path("api/foods/", _menu_with_a_cookie)]
    settings.ROOT_URLCONF = urls

    first = await get("/api/foods/")
    second = await get("/api/foods/")

    assert "set-cookie" in first[1] and "set-cookie" in second[1]
    assert len(django_requests) == 2
