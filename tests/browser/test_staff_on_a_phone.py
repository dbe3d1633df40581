"""Staff walking the floor with a phone (390 px wide): every control of the staff pages is on the screen,
with nothing to scroll sideways to, and every field of the menu says what it is."""

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def fits_the_screen(page) -> None:
    # The phone's width, not innerWidth: a mobile browser widens its layout to a page that does not fit.
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


def on_screen(page, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box


def test_the_staff_menu_on_a_phone_is_one_card_per_dish_with_named_fields(pages, staff, menu):
    page = pages.staff_page(staff, "/staff/menu/", context=pages.context(phone=True))
    row = page.locator(".menu-row", has_text=menu["kimchi"].name)
    expect(row).to_be_visible()
    fits_the_screen(page)
    for control in ("[name=price]", "[name=stock]", ".switch", "[name=station]", "[data-action=save]"):
        on_screen(page, row.locator(control))
    labels = row.locator("td[data-label]").evaluate_all(
        "cells => cells.map(cell => getComputedStyle(cell, '::before').content)"
    )
    assert labels == ['"가격"', '"남은 수량"', '"판매 상태"', '"준비하는 곳"']


def test_a_staff_call_on_the_floor_can_be_acknowledged_from_a_phone(pages, server, staff, table):
    requests.post(
        f"{server.url}/api/tables/{table.pk}/call-staff/", json={"message": "앞접시 두 개 더 주세요"}, timeout=10
    ).raise_for_status()
    page = pages.staff_page(staff, "/staff/tables/", context=pages.context(phone=True))
    call = page.locator("#call-list .call-row")
    expect(call).to_contain_text("앞접시 두 개 더 주세요")
    fits_the_screen(page)
    on_screen(page, call.get_by_role("button", name="확인"))
    call.get_by_role("button", name="확인").click()
    expect(call).to_have_count(0)
