import pytest

from tests.factories import FoodFactory
from tests.fakes import FakeService
from tests.payments.support import MALL_ID, ON_MARIADB, WEBHOOK_KEY, sqlite_template


@pytest.fixture(autouse=True)
def pay_settings(settings):
    """PayAction webhook on, outside services off, quick retries; each test switches on what it needs."""
    settings.PAYACTION_WEBHOOK_KEY = WEBHOOK_KEY
    settings.PAYACTION_MALL_ID = MALL_ID
    settings.PAYACTION_API_KEY = ""
    settings.DISCORD_WEBHOOK_URL = ""
    settings.DISCORD_CALL_WEBHOOK_URL = ""
    settings.BANK_NAME = "케이뱅크"
    settings.BANK_ACCOUNT_NO = "100148347666"
    settings.PRE_ORDER_TTL_MINUTES = 30
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0.05
    return settings


@pytest.fixture
def discord(settings):
    """A fake Discord webhook; DISCORD_WEBHOOK_URL points at it."""
    with FakeService() as fake:
        settings.DISCORD_WEBHOOK_URL = f"{fake.url}/api/webhooks/1/orders-token"
        yield fake


@pytest.fixture
def pasta(db):
    return FoodFactory(name="파스타", price=12000)


@pytest.fixture
def beer(db):
    return FoodFactory(name="생맥주", price=5000, stock=4, category="drinks")


@pytest.fixture(scope="session")
def served_template(tmp_path_factory):
    """On SQLite, served processes share a migrated file (the test database is in memory)."""
    if ON_MARIADB:
        return None
    return sqlite_template(tmp_path_factory.mktemp("served-db"))
