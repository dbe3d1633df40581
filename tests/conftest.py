import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ordering.menu import menu_forget
from tests.factories import FoodFactory, StaffFactory, TableFactory

# Tests drive jobs and rate limits explicitly; the served app runs both on its own.
settings.BACKGROUND_JOBS = False
settings.THROTTLE_ENABLED = False
# Tests run with DEBUG off, where pre-orders need an account to pay to (payments.services.pre_order_create).
settings.BANK_ACCOUNT_NO = settings.BANK_ACCOUNT_NO or "100-200-300"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and the kept menu never leak from one test into the next."""
    cache.clear()
    menu_forget()
    yield


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def staff_api(staff):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client


@pytest.fixture
def table(db):
    return TableFactory()


@pytest.fixture
def food(db):
    return FoodFactory(price=12000)


@pytest.fixture
def counted_food(db):
    return FoodFactory(price=8000, stock=5)


@pytest.fixture
def asgi_request():
    """A request through the served ASGI application (config.asgi), with what sits around Django: body
    limit, request ids and access log, kept answers. Returns (status, headers, body)."""
    from asgiref.sync import async_to_sync
    from channels.testing import HttpCommunicator

    from config.asgi import application

    def request(method: str, path: str, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None):
        path, _, query = path.partition("?")
        headers = [(b"host", b"localhost"), (b"content-type", b"application/json"), *(headers or [])]
        communicator = HttpCommunicator(application, method, path, body=body, headers=headers)
        communicator.scope["query_string"] = query.encode()
        response = async_to_sync(communicator.get_response)()
        return response["status"], dict(response["headers"]), response["body"]

    return request


@pytest.fixture
def asgi_post(asgi_request):
    return lambda path, body, headers=None: asgi_request("POST", path, body, headers)
