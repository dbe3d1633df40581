import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import FoodFactory, StaffFactory, TableFactory

# Tests drive jobs and rate limits explicitly; the served app runs both on its own.
settings.BACKGROUND_JOBS = False
settings.THROTTLE_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and the cached menu never leak from one test into the next."""
    cache.clear()
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
