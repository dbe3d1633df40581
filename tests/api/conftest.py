import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ordering.events import GROUP_KITCHEN, GROUP_MENU
from tests.api.support import IN_MEMORY_LAYER, EventRecorder, db_state
from tests.factories import StaffFactory


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Staff users log in in many tests here; the default hasher costs a quarter second each time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def guest(db):
    """A logged-in user who is not staff."""
    return StaffFactory(is_staff=False, username="guest")


@pytest.fixture
def guest_api(guest):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=guest).key}")
    return client


@pytest.fixture
def snapshot(db):
    return db_state


@pytest.fixture
def events(settings):
    """Events sent to the kitchen and menu groups, through an in-memory channel layer.

    Events go out on commit: run the request inside django_capture_on_commit_callbacks(execute=True).
    """
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    return EventRecorder().subscribe(GROUP_KITCHEN, GROUP_MENU)
