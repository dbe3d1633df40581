"""The HTTP around Django in the served process (core.serving), through the real ASGI application."""

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import ApplicationCommunicator, HttpCommunicator
from django.core import signals
from rest_framework.authtoken.models import Token

from core.serving import KeptAnswers, WSGIOnThreads
from ordering import services
from ordering.menu import menu_forget
from ordering.models import Order
from tests.factories import FoodFactory, StaffFactory, TableFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def django_requests():
    """How many requests reached Django (its request_started signal)."""
    seen = []

    def receiver(**kwargs):
        seen.append(1)

    signals.request_started.connect(receiver)
    yield seen
    signals.request_started.disconnect(receiver)


def test_a_repeated_plain_menu_read_is_replayed_without_django(asgi_request, django_requests):
    FoodFactory(name="김치전", price=12000)

    first = asgi_request("GET", "/api/foods/")
    second = asgi_request("GET", "/api/foods/")

    assert len(django_requests) == 1
    assert first[0] == second[0] == 200
    assert first[2] == second[2] and json.loads(second[2])[0]["name"] == "김치전"
    assert first[1][b"etag"] == second[1][b"etag"]
    assert first[1][b"x-request-id"] != second[1][b"x-request-id"]  # each answer its own request id


def test_each_category_is_kept_apart(asgi_request, django_requests):
    FoodFactory(name="김치전", category="menu")
    FoodFactory(name="맥주", category="drinks")

    drinks = [asgi_request("GET", "/api/foods/?category=drinks") for _ in range(2)]
    menu = [asgi_request("GET", "/api/foods/?category=menu") for _ in range(2)]

    assert [f["name"] for f in json.loads(drinks[1][2])] == ["맥주"]
    assert [f["name"] for f in json.loads(menu[1][2])] == ["김치전"]
    assert len(django_requests) == 2


def test_a_change_made_through_the_app_is_served_by_the_next_read(asgi_request):
    food = FoodFactory(price=12000)
    asgi_request("GET", "/api/foods/")
    asgi_request("GET", "/api/foods/")

    services.food_update(food_id=food.pk, sold_out=True)

    assert json.loads(asgi_request("GET", "/api/foods/")[2])[0]["sold_out"] is True


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/foods/?category=menu&x=1", [], 200),
        ("/api/foods/?category=beer", [], 400),
        ("/api/foods/", [(b"authorization", b"Token wrong")], 401),
        ("/api/foods/", [(b"origin", b"http://localhost:8000")], 200),
        ("/api/foods/", [(b"if-none-match", b'W/"stale"')], 200),
        ("/api/foods/", [(b"if-none-match", b'"stale", "older"')], 200),
        ("/api/foods/", [(b"if-match", b'"stale"')], 412),
    ],
)
def test_reads_that_are_not_plain_always_reach_django(asgi_request, django_requests, path, headers, status):
    FoodFactory()
    asgi_request("GET", "/api/foods/")  # kept

    assert asgi_request("GET", path, headers=headers)[0] == status
    assert asgi_request("GET", path, headers=headers)[0] == status
    assert len(django_requests) == 3


def test_an_unchanged_menu_is_answered_304_to_a_phone_that_has_it(asgi_request):
    FoodFactory()
    etag = asgi_request("GET", "/api/foods/")[1][b"etag"]

    status, _, body = asgi_request("GET", "/api/foods/", headers=[(b"if-none-match", etag)])

    assert (status, body) == (304, b"")


def test_a_browser_revalidating_an_older_menu_gets_the_current_one_without_django(asgi_request, django_requests):
    food = FoodFactory(price=12000)
    older = asgi_request("GET", "/api/foods/")[1][b"etag"]
    services.food_update(food_id=food.pk, price=13000)
    current = asgi_request("GET", "/api/foods/")

    status, headers, body = asgi_request("GET", "/api/foods/", headers=[(b"if-none-match", older)])

    assert (status, body, headers[b"etag"]) == (200, current[2], current[1][b"etag"])
    assert json.loads(body)[0]["price"] == 13000
    assert len(django_requests) == 2


def _concurrent_reads(count: int, *, one_by_one: threading.Event | None = None, headers=None) -> list:
    """`count` menu reads in flight at once on one event loop (plain, or with `headers[n]`), as (status, body).
    With `one_by_one`, each read after the first starts once that event is set."""
    from config.asgi import application

    async def go():
        reads = []
        for n in range(count):
            while n and one_by_one is not None and not one_by_one.is_set():
                await asyncio.sleep(0.005)
            extra = headers[n] if headers else []
            communicator = HttpCommunicator(
                application, "GET", "/api/foods/", headers=[(b"host", b"localhost"), *extra]
            )
            reads.append(asyncio.ensure_future(communicator.get_response(timeout=10)))
        return [(r["status"], r["body"]) for r in await asyncio.gather(*reads)]

    return async_to_sync(go)()


def test_reads_right_after_a_change_share_one_trip_to_django(asgi_request, django_requests):
    food = FoodFactory(price=12000)
    asgi_request("GET", "/api/foods/")
    services.food_update(food_id=food.pk, price=13000)
    django_requests.clear()

    answers = _concurrent_reads(20)

    assert len(django_requests) == 1
    assert {status for status, _ in answers} == {200}
    assert {json.loads(body)[0]["price"] for _, body in answers} == {13000}


def test_a_read_after_a_change_announced_during_a_trip_makes_its_own(django_requests):
    """The first read, once in Django, hears of a change (a forget) and waits (2 s at most) for the second to
    reach Django too. The second comes in a newer generation, so it must make its own trip: had it waited
    for the first's, only one read would have reached Django."""
    FoodFactory()
    changed, second_in = threading.Event(), threading.Event()

    def receiver(**kwargs):
        if changed.is_set():
            second_in.set()
            return
        menu_forget()
        changed.set()
        second_in.wait(2)

    signals.request_started.connect(receiver)
    try:
        answers = _concurrent_reads(2, one_by_one=changed)
    finally:
        signals.request_started.disconnect(receiver)

    assert [status for status, _ in answers] == [200, 200]
    assert len(django_requests) == 2


def test_a_staff_token_read_gets_the_same_menu(asgi_request):
    FoodFactory()
    token = Token.objects.create(user=StaffFactory()).key
    plain = asgi_request("GET", "/api/foods/")

    staff = asgi_request("GET", "/api/foods/", headers=[(b"authorization", f"Token {token}".encode())])

    assert staff[0] == 200 and staff[2] == plain[2]


def _post_in_chunks(path: str, parts: list[bytes]) -> tuple[int, bytes]:
    """A POST whose body arrives in several messages, as a chunked upload does (no Content-Length)."""
    from config.asgi import application

    async def go():
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "scheme": "http",
            "headers": [(b"host", b"localhost"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        app = ApplicationCommunicator(application, scope)
        for n, part in enumerate(parts):
            await app.send_input({"type": "http.request", "body": part, "more_body": n < len(parts) - 1})
        start = await app.receive_output(10)
        body = b""
        while True:
            message = await app.receive_output(10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                return start["status"], body

    return async_to_sync(go)()


def test_a_body_in_several_messages_is_read_whole():
    table, food = TableFactory(), FoodFactory()
    raw = json.dumps({"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 2}]}).encode()

    status, body = _post_in_chunks("/api/orders/", [raw[:10], raw[10:30], raw[30:]])

    assert status == 201, body
    assert Order.objects.get().items.get().quantity == 2


def test_a_body_passing_the_limit_while_it_arrives_is_413_and_writes_nothing():
    table, food = TableFactory(), FoodFactory()
    raw = json.dumps({"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}], "pad": "x" * 70000})

    status, body = _post_in_chunks("/api/orders/", [raw[i : i + 8192].encode() for i in range(0, len(raw), 8192)])

    assert status == 413 and json.loads(body)["code"] == "payload_too_large"
    assert not Order.objects.exists()


def _call(app, path: str = "/") -> tuple[dict, bytes, int]:
    async def go():
        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
        comm = ApplicationCommunicator(app, scope)
        await comm.send_input({"type": "http.request", "body": b""})
        start = await comm.receive_output(10)
        body, messages = b"", 0
        while True:
            message = await comm.receive_output(10)
            body += message.get("body", b"")
            messages += 1
            if not message.get("more_body"):
                return start, body, messages

    return async_to_sync(go)()


def test_django_runs_on_a_fixed_set_of_long_lived_threads():
    seen = []

    def wsgi(environ, start_response):
        seen.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    app = WSGIOnThreads(wsgi, threads=2)

    for _ in range(12):
        _call(app)

    assert len(seen) == 12 and len(set(seen)) <= 2


def test_a_large_answer_is_sent_in_chunks_and_the_iterable_closed():
    closed = []

    class Body:
        def __iter__(self):
            for _ in range(5):
                yield b"x" * 400_000

        def close(self):
            closed.append(True)

    def wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        return Body()

    start, body, messages = _call(WSGIOnThreads(wsgi, threads=1))

    assert start["status"] == 200 and (b"content-type", b"text/csv") in start["headers"]
    assert len(body) == 2_000_000
    assert messages > 2  # the first megabyte, then each chunk as it was made, then the end
    assert closed == [True]


def test_a_read_during_a_trip_whose_copy_is_the_new_menu_gets_304(asgi_request):
    """The second read waits for the first's trip (same generation); that trip's menu is the one the second
    already has, so Django answers it 304, not the kept 200."""
    FoodFactory()
    etag = asgi_request("GET", "/api/foods/")[1][b"etag"]
    menu_forget()  # the next read renders again: the same menu, the same ETag
    in_django = threading.Event()

    def receiver(**kwargs):
        if not in_django.is_set():
            in_django.set()
            time.sleep(0.3)  # the second read arrives meanwhile and waits for this trip

    signals.request_started.connect(receiver)
    try:
        answers = _concurrent_reads(2, one_by_one=in_django, headers=[[], [(b"if-none-match", etag)]])
    finally:
        signals.request_started.disconnect(receiver)

    assert [status for status, _ in answers] == [200, 304]


def test_a_host_django_refuses_is_refused_though_the_menu_is_kept(asgi_request):
    from config.asgi import application

    FoodFactory()
    asgi_request("GET", "/api/foods/")
    asgi_request("GET", "/api/foods/")  # kept

    communicator = HttpCommunicator(application, "GET", "/api/foods/", headers=[(b"host", b"evil.example")])
    answer = async_to_sync(communicator.get_response)()

    assert answer["status"] == 400


def test_answers_to_made_up_query_strings_are_not_kept(asgi_request):
    """Each would hold a copy of the menu for the life of the process: a guest could fill its memory."""
    from config.asgi import application

    FoodFactory()
    asgi_request("GET", "/api/foods/")
    for n in range(50):
        assert asgi_request("GET", f"/api/foods/?category=menu&x={n}")[0] == 200

    kept = [app for app in _inner_applications(application) if isinstance(app, KeptAnswers)]
    assert len(kept) == 1 and {query for _, query in kept[0].answers} <= {b"", b"category=menu", b"category=drinks"}


def _inner_applications(app):
    """The ASGI applications wrapped inside `app`, each of ours naming the next as `application`."""
    while app is not None:
        yield app
        inner = getattr(app, "application", None)
        if inner is None and hasattr(app, "application_mapping"):  # Channels' ProtocolTypeRouter
            inner = app.application_mapping.get("http")
        app = inner
