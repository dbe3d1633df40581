"""A guest's phone reloaded while the festival Wi-Fi is down (CONTRACT.md section 10): the tab opens from its
service worker's copy (/t/sw.js) with the menu, the orders and the cart it last knew, says from when, and is
the server's again as soon as the connection returns. The board's copy and the phone's live side by side.

`SECTION10_SCREENSHOTS=docs/screenshots uv run pytest tests/browser/test_phone_offline.py` also writes
phone-offline-reloaded.png there."""

import os
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.support import place_order, staff_token, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVENT_TIMEOUT_MS = 5_000
SCREENSHOTS = os.environ.get("SECTION10_SCREENSHOTS")


def kept_copy(page, table) -> str:  # the expression of the tab's kept copy
    return f"localStorage.getItem('tab:kept:v1:{table.pk}')"


def test_a_phone_reloaded_offline_shows_what_it_last_knew_until_it_is_back(pages, server, table, menu):
    order = place_order(server, table, (menu["kimchi"], 2))
    phone = pages.table_tab(table)
    phone.get_by_role("button", name="김치전 담기").click()
    expect(phone.locator("#cart-count")).to_have_text("1")
    expect(phone.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)
    # kept once the cart's write is answered: the copy holds the server's cart
    phone.wait_for_function(f"""({kept_copy(phone, table)} || '').includes('"food_id":{menu["kimchi"].pk}')""")

    phone.context.set_offline(True)
    phone.reload()
    note = phone.locator("#kept-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("본 화면")
    expect(phone.locator("#food-list-menu")).to_contain_text("김치전")
    expect(phone.locator("#cart-count")).to_have_text("1")
    if SCREENSHOTS:
        phone.screenshot(path=str(Path(SCREENSHOTS) / "phone-offline-reloaded.png"))
    phone.get_by_role("tab", name="주문 현황").click()
    expect(phone.locator("#order-list")).to_contain_text(order["order_number"])

    phone.context.set_offline(False)
    wait_live(phone)
    expect(note).to_be_hidden()
    expect(phone.locator("#cart-count")).to_have_text("1")


def test_online_the_phone_shows_the_servers_state_without_a_note(pages, server, staff, table, menu):
    phone = pages.table_tab(table)
    phone.wait_for_function(f"{kept_copy(phone, table)} !== null")
    requests.patch(  # changed since the copy was kept: the reload shows the server's state, not the copy's
        f"{server.url}/api/foods/{menu['kimchi'].pk}/",
        json={"sold_out": True},
        headers=staff_token(server, staff),
        timeout=10,
    ).raise_for_status()
    phone.reload()
    wait_live(phone)
    expect(phone.get_by_role("button", name="김치전 품절")).to_be_visible()
    phone.wait_for_timeout(2_500)  # past the moment a copy's note would show online
    expect(phone.locator("#kept-note")).to_be_hidden()


@pytest.mark.parametrize(
    "kept",
    [
        pytest.param("{foods: 'x', orders: []}", id="an-older-shape"),
        pytest.param("{...KEPT, at: new Date(Date.now() - 13 * 3600e3).toISOString()}", id="last-night"),
        pytest.param("'{not json'", id="unreadable"),
    ],
)
def test_a_copy_that_cannot_be_used_is_forgotten_and_the_tab_still_goes_live(pages, server, table, menu, kept):
    phone = pages.table_tab(table)
    expect(phone.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)
    phone.wait_for_function(f"{kept_copy(phone, table)} !== null")
    phone.evaluate(
        f"""() => {{
            const KEPT = JSON.parse({kept_copy(phone, table)});
            const copy = {kept};
            localStorage.setItem('tab:kept:v1:{table.pk}', typeof copy === 'string' ? copy : JSON.stringify(copy));
        }}"""
    )
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.locator("#food-list-menu")).to_contain_text("메뉴를 불러오는 중")  # nothing shown from it
    expect(phone.locator("#kept-note")).to_be_hidden()

    phone.context.set_offline(False)
    wait_live(phone)
    expect(phone.locator("#food-list-menu")).to_contain_text("김치전")
    assert not pages.errors


def test_the_boards_copy_and_a_phones_live_side_by_side(pages, server, staff, table, menu):
    """One browser that opened the board and a table's tab (a staff tablet checking a QR code): each page's
    worker keeps its own copy and never deletes the other's."""
    board = pages.staff_page(staff, "/kitchen/")
    expect(board.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)
    phone = pages.new_page(board.context)
    phone.goto(f"{server.url}/t/{table.pk}/")
    wait_live(phone)
    expect(phone.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)

    board.context.set_offline(True)
    for page, path in ((board, "/kitchen/"), (phone, f"/t/{table.pk}/")):
        try:
            page.goto(f"{server.url}{path}")
        except PlaywrightError as error:  # the browser's own offline page: nothing was kept
            pytest.fail(f"{path} did not open offline: {error}")
    expect(board.locator("#sync")).to_have_attribute("data-state", "offline")
    expect(phone.locator("#food-list-menu")).to_contain_text("김치전")
