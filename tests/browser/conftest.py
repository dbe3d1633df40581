"""Browser tests: the real app served by daphne on the pytest test database, driven through Debian's
chromium with Playwright's sync API. Never downloads a browser."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, WEBHOOK_KEY, Pages
from tests.factories import FoodFactory, StaffFactory, TableFactory
from tests.servers import Daphne, test_database_url


@pytest.fixture(scope="module")
def browser():
    # Module scope: Playwright's loop and the async-unsafe flag end with the browser tests, before
    # the async (WebSocket) tests and the subprocess checks of other folders run.
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    # Playwright's sync API keeps an event loop marked running in this thread, which Django takes for
    # async code and refuses the ORM (the test's own factories and queries). Allowed in this process
    # only; the served app runs with the check on (see server_env).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def server_env(transactional_db) -> dict:
    """The served app's environment: the test database (it sees committed rows), production-like settings."""
    return {
        "DATABASE_URL": test_database_url(),
        "DEBUG": "0",
        "SECRET_KEY": "browser-tests-secret-key",
        "THROTTLE": "off",
        "BACKGROUND_JOBS": "0",
        "PAYACTION_WEBHOOK_KEY": WEBHOOK_KEY,
        "PAYACTION_MALL_ID": "",
        "PAYACTION_API_KEY": "",
        "DISCORD_WEBHOOK_URL": "",
        "DISCORD_CALL_WEBHOOK_URL": "",
        "DJANGO_ALLOW_ASYNC_UNSAFE": "",  # empty is off: the server keeps Django's async-safety check
    }


@pytest.fixture
def server(server_env):
    with Daphne(env=server_env) as daphne:
        yield daphne


@pytest.fixture
def pages(browser, server):
    opened = Pages(browser, server)
    yield opened
    opened.close()
    assert not opened.errors, f"script errors in the pages: {opened.errors}"


@pytest.fixture
def table(transactional_db):
    return TableFactory(name="A1")


@pytest.fixture
def other_table(transactional_db):
    return TableFactory(name="B2")


@pytest.fixture
def menu(transactional_db) -> dict:
    return {
        "kimchi": FoodFactory(name="김치전", price=12000),
        "seafood": FoodFactory(name="해물파전", price=15000, stock=5),
        "beer": FoodFactory(name="맥주", price=5000, category="drinks"),
    }


@pytest.fixture
def staff(transactional_db):
    return StaffFactory()
