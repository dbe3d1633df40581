"""The pages catch up by themselves with a change whose event never reached them (CONTRACT.md section 5):
the heartbeat carries the feed's latest seq, and a page behind it opens its socket again for a snapshot."""

import re

import pytest
from django.db import transaction
from django.db.models import F
from playwright.sync_api import expect

from ordering.events import GROUP_KITCHEN, table_group
from ordering.models import Food, KitchenStatus, Order
from realtime.broadcast import feeds_advance
from tests.browser.support import Pages, mark_document, place_order, same_document
from tests.servers import Daphne

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HEARTBEAT_SECONDS = 1


def test_a_change_whose_event_was_lost_reaches_the_tab_and_the_board_through_the_heartbeat(
    browser, server_env, staff, table, menu
):
    with Daphne(env={**server_env, "WS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}) as server:
        pages = Pages(browser, server)
        try:
            order = place_order(server, table, (menu["kimchi"], 1))
            tab = pages.table_tab(table)
            board = pages.staff_page(staff, "/kitchen/")
            for page in (tab, board):
                mark_document(page)
            card = tab.locator(f'.order-card[data-order-id="{order["id"]}"]')
            ticket = board.locator(f'.ticket[data-order-id="{order["id"]}"]')
            expect(card).to_have_attribute("data-kitchen-status", "queued")
            expect(ticket).to_have_attribute("data-kitchen-status", "queued")

            # Committed with its seqs, but its event lost on the way (Redis away, a process killed).
            with transaction.atomic():
                Order.objects.filter(pk=order["id"]).update(kitchen_status=KitchenStatus.COOKING)
                feeds_advance([GROUP_KITCHEN, table_group(table.pk)])

            # a heartbeat (1 s), the pages' wait for a late event (1.5 s), a reconnect and its snapshot
            expect(card).to_have_attribute("data-kitchen-status", "cooking", timeout=8_000)
            expect(ticket).to_have_attribute("data-kitchen-status", "cooking", timeout=8_000)
            assert same_document(tab) and same_document(board), "a page was reloaded instead of resyncing"
        finally:
            pages.close()
        assert not pages.errors, pages.errors


def test_a_food_change_whose_event_was_lost_reaches_the_tab_and_the_staff_menu_through_the_heartbeat(
    browser, server_env, staff, table, menu
):
    kimchi = menu["kimchi"]
    env = {**server_env, "WS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS), "MENU_CACHE_SECONDS": "1"}
    with Daphne(env=env) as server:
        pages = Pages(browser, server)
        try:
            tab = pages.table_tab(table)
            staff_menu = pages.staff_page(staff, "/staff/menu/")
            item = tab.locator(f'.food[data-food-id="{kimchi.pk}"]')
            row = staff_menu.locator(f'.menu-row[data-food-id="{kimchi.pk}"]')
            switch = row.get_by_role("switch", name="김치전 품절")
            expect(item).not_to_have_class(re.compile(r"\bsold-out\b"))
            expect(switch).not_to_be_checked()
            for page in (tab, staff_menu):
                mark_document(page)

            # Committed, but its food.updated lost on the way (Redis away): only the menu's version moved.
            Food.objects.filter(pk=kimchi.pk).update(sold_out=True, version=F("version") + 1)

            # the kept menu's 1 s, a heartbeat (1 s), the pages' spread of their reads (up to 1 s), the read
            expect(item).to_have_class(re.compile(r"\bsold-out\b"), timeout=8_000)
            expect(switch).to_be_checked(timeout=8_000)
            assert same_document(tab) and same_document(staff_menu), "a page was reloaded instead of re-reading"
        finally:
            pages.close()
        assert not pages.errors, pages.errors
