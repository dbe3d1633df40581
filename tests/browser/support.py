"""Helpers of the browser tests: page opening, waiting for the live socket, orders over HTTP."""

import re

import requests
from playwright.sync_api import expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STAFF_PASSWORD = "pw-staff-1234"  # tests.factories.StaffFactory
WEBHOOK_KEY = "browser-tests-webhook-key"
LIVE_TIMEOUT_MS = 10_000


class Pages:
    """Opens pages in browser contexts and records every uncaught script error."""

    def __init__(self, browser, server):
        self.browser = browser
        self.server = server
        self.contexts = []
        self.errors: list[str] = []

    def context(self, *, phone: bool = False, timezone_id: str = "Asia/Seoul", viewport: dict | None = None):
        options = (
            {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
            if phone
            else {"viewport": viewport or {"width": 1440, "height": 900}}
        )
        context = self.browser.new_context(**options, locale="ko-KR", timezone_id=timezone_id)
        context.set_default_timeout(LIVE_TIMEOUT_MS)
        self.contexts.append(context)
        return context

    def new_page(self, context):
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def table_tab(self, table):
        page = self.new_page(self.context(phone=True))
        page.goto(f"{self.server.url}/t/{table.pk}/")
        wait_live(page)
        return page

    def staff_page(self, staff, path: str, context=None):
        """Log in through /accounts/login/ like a person, land on `path`, wait for its socket."""
        page = self.new_page(context or self.context())
        page.goto(f"{self.server.url}/accounts/login/?next={path}")
        page.fill("#id_username", staff.username)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.server.url}{path}")
        wait_live(page)
        return page

    def close(self):
        for context in self.contexts:
            context.close()


def wait_live(page, timeout: int = LIVE_TIMEOUT_MS) -> None:
    expect(page.locator("#live")).to_have_attribute("data-state", "open", timeout=timeout)


def mark_document(page) -> None:
    """Tag the loaded document; `same_document` stays true only while the page is not reloaded."""
    page.evaluate("window.__notReloaded = true")


def same_document(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def staff_token(server, staff) -> dict:
    """The Authorization header of a token for `staff` (made with STAFF_PASSWORD)."""
    response = requests.post(
        f"{server.url}/api/auth/token/", json={"username": staff.username, "password": STAFF_PASSWORD}, timeout=10
    )
    return {"Authorization": f"Token {response.json()['token']}"}


def place_order(server, table, *lines) -> dict:
    """A direct order through the served app's public API (so its events reach the open pages)."""
    items = [{"food_id": food.pk, "quantity": quantity} for food, quantity in lines]
    response = requests.post(f"{server.url}/api/orders/", json={"table_id": str(table.pk), "items": items}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def place_pre_order(server, table, payer_name: str, food, quantity: int = 1) -> dict:
    """A pre-order through the served app's public API: it waits for its deposit."""
    body = {
        "payer_name": payer_name,
        "total_amount": food.price * quantity,
        "items": [{"food_id": food.pk, "quantity": quantity}],
    }
    response = requests.post(f"{server.url}/api/orders/pre-order/{table.pk}/", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def deliver_deposit(server, name: str, amount: int, trace_id: str) -> None:
    """A PayAction deposit notice, as section 6 shows it, to the served app's webhook."""
    deposit = {
        "transaction_type": "deposited",
        "transaction_name": name,
        "amount": amount,
        "bank_account_number": "100123456789",
        "bank_code": "089",
        "bank_account_id": "browser-test",
        "transaction_date": "2025-05-17 20:41:09",
        "processing_date": "2025-05-17 20:41:12",
        "balance": 512000,
    }
    response = requests.post(
        f"{server.url}/api/webhook/payment/",
        json=deposit,
        headers={"x-webhook-key": WEBHOOK_KEY, "x-trace-id": trace_id},
        timeout=10,
    )
    assert response.json() == {"status": "success"}


def has_class(name: str) -> re.Pattern:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
