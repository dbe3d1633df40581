"""Front of house in chromium against a real daphne: bar and kitchen boards each moving their part of a
ticket, staff calls kept until acknowledged, a reset that says how many tickets are unserved before asking,
and a closed table's wait screen turning into the menu when staff open it (CONTRACT.md sections 7 and 8)."""

import os
import re

import pytest
import requests
from playwright.sync_api import expect

from ordering.models import Order, Table
from tests.browser.support import (
    Pages,
    deliver_deposit,
    has_class,
    mark_document,
    place_order,
    place_pre_order,
    same_document,
    staff_token,
    wait_live,
)
from tests.factories import FoodFactory, TableFactory
from tests.servers import Daphne

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVENT_TIMEOUT_MS = 5_000


@pytest.fixture
def mixed_menu(transactional_db) -> dict:
    kimchi = FoodFactory(name="김치전", price=12000)
    beer = FoodFactory(name="맥주", price=5000, category="drinks")
    assert (kimchi.station, beer.station) == ("kitchen", "bar")
    return {"kimchi": kimchi, "beer": beer}


@pytest.fixture
def opening_server(server_env):
    """The app with TABLE_OPENING=required: a closed table takes no orders and shows a wait screen."""
    with Daphne(env={**server_env, "TABLE_OPENING": "required"}) as daphne:
        yield daphne


@pytest.fixture
def opening_pages(browser, opening_server):
    opened = Pages(browser, opening_server)
    yield opened
    opened.close()
    assert not opened.errors, f"script errors in the pages: {opened.errors}"


def call_staff(server, table, message: str) -> int:
    response = requests.post(f"{server.url}/api/tables/{table.pk}/call-staff/", json={"message": message}, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()["call_id"]


def order_status(tab, order_id):
    return tab.locator(f'.order-card[data-order-id="{order_id}"] [data-role=order-status]')


def click_and_check_body(page, button, expected: dict) -> None:
    """Click a board button and check the PATCH it sends (the station decides which lines move)."""
    with page.expect_request(lambda r: r.method == "PATCH" and "/kitchen-status/" in r.url) as sent:
        button.click()
    assert sent.value.post_data_json == expected


def test_bar_and_kitchen_each_move_their_half_and_the_phone_follows(pages, server, staff, table, mixed_menu):
    order = place_order(server, table, (mixed_menu["kimchi"], 1), (mixed_menu["beer"], 2))
    tab = pages.table_tab(table)
    tab.get_by_role("tab", name="주문 현황").click()
    status = order_status(tab, order["id"])
    expect(status).to_have_text("대기")

    bar = pages.staff_page(staff, "/kitchen/?station=bar")
    kitchen = pages.staff_page(staff, "/kitchen/?station=kitchen", context=bar.context)
    for page in (bar, kitchen, tab):
        mark_document(page)
    bar_ticket = bar.locator(f'.ticket[data-order-id="{order["id"]}"]')
    kitchen_ticket = kitchen.locator(f'.ticket[data-order-id="{order["id"]}"]')

    # each screen shows only its own lines, and counts only them
    expect(bar_ticket.locator(".ticket-items li")).to_have_count(1)
    expect(bar_ticket.locator(".ticket-items")).to_contain_text("맥주")
    expect(bar_ticket.locator(".ticket-other")).to_contain_text("주방 1개")
    expect(kitchen_ticket.locator(".ticket-items li")).to_have_count(1)
    expect(kitchen_ticket.locator(".ticket-items")).to_contain_text("김치전")
    expect(bar.locator("#allday")).to_contain_text("맥주")
    expect(bar.locator("#allday")).not_to_contain_text("김치전")
    expect(kitchen.locator("#allday")).to_contain_text("김치전")
    expect(kitchen.locator("#allday")).not_to_contain_text("맥주")

    # the bar starts its part: the phone sees cooking, the kitchen's part is still waiting
    click_and_check_body(
        bar,
        bar_ticket.locator("[data-action=cooking]"),
        {"kitchen_status": "cooking", "from_status": "queued", "station": "bar"},
    )
    expect(bar_ticket).to_have_attribute("data-kitchen-status", "cooking")
    expect(status).to_have_text("조리중", timeout=EVENT_TIMEOUT_MS)
    expect(kitchen_ticket).to_have_attribute("data-kitchen-status", "queued")
    expect(kitchen_ticket.locator(".ticket-other")).to_contain_text("바 2개 · 준비중", timeout=EVENT_TIMEOUT_MS)

    # the bar serves its part: gone from the bar, still on the kitchen's board; the phone says part has come
    click_and_check_body(
        bar,
        bar_ticket.locator("[data-action=served]"),
        {"kitchen_status": "served", "from_status": "cooking", "station": "bar"},
    )
    expect(bar_ticket).to_have_count(0)
    expect(bar.locator(f'.served-item[data-order-id="{order["id"]}"]')).to_be_visible()
    expect(kitchen_ticket.locator(".ticket-other")).to_contain_text("바 2개 · 서빙완료", timeout=EVENT_TIMEOUT_MS)
    expect(kitchen_ticket).to_be_visible()
    expect(status).to_have_text("일부 나왔어요")

    # the kitchen cooks and serves its part: the whole order is served
    click_and_check_body(
        kitchen,
        kitchen_ticket.locator("[data-action=cooking]"),
        {"kitchen_status": "cooking", "from_status": "queued", "station": "kitchen"},
    )
    expect(kitchen_ticket).to_have_attribute("data-kitchen-status", "cooking")
    click_and_check_body(
        kitchen,
        kitchen_ticket.locator("[data-action=served]"),
        {"kitchen_status": "served", "from_status": "cooking", "station": "kitchen"},
    )
    expect(kitchen_ticket).to_have_count(0)
    expect(status).to_have_text("서빙완료", timeout=EVENT_TIMEOUT_MS)
    expect(bar_ticket).to_have_count(0)
    assert Order.objects.get(pk=order["id"]).kitchen_status == "served"
    assert all(same_document(page) for page in (bar, kitchen, tab)), "a page was reloaded"


def test_a_refunded_drink_leaves_the_bar_board_and_its_count(pages, server, staff, table, other_table, mixed_menu):
    whole = place_order(server, table, (mixed_menu["kimchi"], 1), (mixed_menu["beer"], 3))
    part = place_order(server, other_table, (mixed_menu["beer"], 4))
    bar = pages.staff_page(staff, "/kitchen/?station=bar")
    mark_document(bar)
    whole_ticket = bar.locator(f'.ticket[data-order-id="{whole["id"]}"]')
    part_ticket = bar.locator(f'.ticket[data-order-id="{part["id"]}"]')
    beer_count = bar.locator("#allday li", has_text="맥주").locator(".allday-count")
    expect(whole_ticket).to_be_visible()
    expect(beer_count).to_have_text("7")

    token = staff_token(server, staff)
    for order, quantity in ((whole, 3), (part, 1)):
        requests.post(
            f"{server.url}/api/orders/{order['id']}/refunds/",
            json={"items": [{"food_id": mixed_menu["beer"].pk, "quantity": quantity}], "reason": "품절"},
            headers=token,
            timeout=10,
        ).raise_for_status()

    # nothing left to pour of the first; three of four of the second
    expect(whole_ticket).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(part_ticket.locator(".ticket-items li .ticket-qty")).to_have_text("3")
    expect(beer_count).to_have_text("3")
    assert same_document(bar)
    bar.reload()
    wait_live(bar)
    expect(whole_ticket).to_have_count(0)
    expect(beer_count).to_have_text("3")
    kitchen = pages.staff_page(staff, "/kitchen/?station=kitchen")
    expect(kitchen.locator(f'.ticket[data-order-id="{whole["id"]}"]')).to_be_visible()


def test_an_order_refunded_whole_is_no_open_ticket_on_the_floor(pages, server, staff, table, mixed_menu):
    order = place_order(server, table, (mixed_menu["kimchi"], 2))
    floor = pages.staff_page(staff, "/staff/tables/")
    card = floor.locator(f'.floor-card[data-table-id="{table.pk}"]')
    expect(card).to_have_attribute("data-open-tickets", "1")

    requests.post(
        f"{server.url}/api/orders/{order['id']}/refunds/",
        json={"items": [{"food_id": mixed_menu["kimchi"].pk, "quantity": 2}], "reason": "품절"},
        headers=staff_token(server, staff),
        timeout=10,
    ).raise_for_status()

    expect(card).to_have_attribute("data-open-tickets", "0", timeout=EVENT_TIMEOUT_MS)


def test_expo_board_shows_whole_tickets_and_moves_them_without_a_station(pages, server, staff, table, mixed_menu):
    order = place_order(server, table, (mixed_menu["kimchi"], 1), (mixed_menu["beer"], 2))
    expo = pages.staff_page(staff, "/kitchen/")
    ticket = expo.locator(f'.ticket[data-order-id="{order["id"]}"]')
    expect(ticket.locator(".ticket-items li")).to_have_count(2)
    expect(ticket.locator('.ticket-items li[data-station="bar"] .line-station')).to_have_text("바")
    click_and_check_body(
        expo, ticket.locator("[data-action=cooking]"), {"kitchen_status": "cooking", "from_status": "queued"}
    )
    expect(ticket).to_have_attribute("data-kitchen-status", "cooking")


def test_many_open_calls_leave_the_tickets_on_a_tablets_board(pages, server, staff, table, other_table, menu):
    order = place_order(server, table, (menu["kimchi"], 1))
    board = pages.staff_page(staff, "/kitchen/", context=pages.context(viewport={"width": 1024, "height": 768}))
    calls = [call_staff(server, other_table if n % 2 else table, "물 좀 더 주세요 " * 12) for n in range(12)]
    banners = board.locator(".call-banner")
    more = board.locator(".calls-more")
    # the three that have waited longest, then one line for the rest: the ticket stays in view
    expect(banners).to_have_count(3, timeout=EVENT_TIMEOUT_MS)
    assert [banners.nth(n).get_attribute("data-call-id") for n in range(3)] == [str(call) for call in calls[:3]]
    expect(more).to_contain_text("직원 호출 9건 더")
    expect(board.locator(f'.ticket[data-order-id="{order["id"]}"]')).to_be_in_viewport()
    if os.environ.get("BOARD_SCREENSHOT"):
        board.screenshot(path=os.environ["BOARD_SCREENSHOT"])

    more.click()  # all of them, on request; acknowledging the oldest brings the next one up
    expect(banners).to_have_count(12)
    more.click()
    expect(banners).to_have_count(3)
    banners.first.get_by_role("button", name="확인").click()
    expect(banners.first).to_have_attribute("data-call-id", str(calls[1]), timeout=EVENT_TIMEOUT_MS)
    expect(more).to_contain_text("직원 호출 8건 더")


def test_staff_calls_survive_a_board_reload_and_are_cleared_by_an_ack_on_the_floor(pages, server, staff, table):
    board = pages.staff_page(staff, "/kitchen/?station=bar")
    first = call_staff(server, table, "물 주세요")
    second = call_staff(server, table, "앞접시 주세요")
    banners = board.locator(".call-banner")
    # two calls of one table: each its own, never merged
    expect(banners).to_have_count(2, timeout=EVENT_TIMEOUT_MS)
    expect(board.locator(f'.call-banner[data-call-id="{first}"]')).to_contain_text("물 주세요")
    expect(board.locator(f'.call-banner[data-call-id="{second}"]')).to_contain_text("앞접시 주세요")

    board.reload()
    expect(board.locator("#live")).to_have_attribute("data-state", "open")
    expect(banners).to_have_count(2)  # from the snapshot: kept until someone acknowledges
    mark_document(board)

    floor = pages.staff_page(staff, "/staff/tables/", context=board.context)
    card = floor.locator(f'.floor-card[data-table-id="{table.pk}"]')
    expect(card).to_have_attribute("data-open-calls", "2")
    expect(floor.locator(".call-row")).to_have_count(2)
    floor.locator(f'.call-row[data-call-id="{first}"]').get_by_role("button", name="확인").click()

    expect(board.locator(f'.call-banner[data-call-id="{first}"]')).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(banners).to_have_count(1)
    expect(card).to_have_attribute("data-open-calls", "1")

    # and the other way: acknowledged on the board, gone from the floor
    board.locator(f'.call-banner[data-call-id="{second}"]').get_by_role("button", name="확인").click()
    expect(floor.locator(".call-row")).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(card).to_have_attribute("data-open-calls", "0")
    assert same_document(board)
    response = requests.get(f"{server.url}/api/staff-calls/?open=true", headers=staff_token(server, staff), timeout=10)
    assert response.json() == []


@pytest.mark.parametrize("path", ["/staff/menu/", "/staff/dashboard/"])
def test_staff_calls_show_on_the_menu_and_dashboard_pages_until_acknowledged(pages, server, staff, table, path):
    # Every staff screen (CONTRACT.md section 8), not only the board and the floor.
    page = pages.staff_page(staff, path)
    expect(page.locator("#live")).to_have_attribute("data-state", "open")
    call = call_staff(server, table, "물 주세요")
    banner = page.locator(f'.call-banner[data-call-id="{call}"]')
    expect(banner).to_contain_text("물 주세요", timeout=EVENT_TIMEOUT_MS)
    expect(banner).to_contain_text(table.name)

    page.reload()
    expect(banner).to_have_count(1, timeout=EVENT_TIMEOUT_MS)  # from the snapshot

    floor = pages.staff_page(staff, "/staff/tables/", context=page.context)
    expect(floor.locator(f'.call-row[data-call-id="{call}"]')).to_have_count(1, timeout=EVENT_TIMEOUT_MS)
    banner.get_by_role("button", name="확인").click()
    expect(floor.locator(".call-row")).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(page.locator(".call-banner")).to_have_count(0)
    response = requests.get(f"{server.url}/api/staff-calls/?open=true", headers=staff_token(server, staff), timeout=10)
    assert response.json() == []


def test_reset_says_how_many_tickets_are_unserved_before_asking(pages, server, staff, table, mixed_menu):
    first = place_order(server, table, (mixed_menu["kimchi"], 1))
    place_order(server, table, (mixed_menu["beer"], 1))
    tab = pages.table_tab(table)
    tab.get_by_role("tab", name="주문 현황").click()
    expect(tab.locator(".order-card")).to_have_count(2)

    floor = pages.staff_page(staff, "/staff/tables/")
    card = floor.locator(f'.floor-card[data-table-id="{table.pk}"]')
    expect(card).to_have_attribute("data-open-tickets", "2")
    expect(card.locator("[data-role=total]")).to_have_text("17,000원")

    # the server refuses without force, with the count
    refused = requests.delete(
        f"{server.url}/api/tables/{table.pk}/orders/reset/", headers=staff_token(server, staff), timeout=10
    )
    assert refused.status_code == 409 and refused.json()["code"] == "open_tickets" and refused.json()["count"] == 2

    # the page says so before asking: dismissed, nothing is sent and nothing changes
    asked = []
    sent = []
    floor.on("request", lambda r: sent.append(r.url) if "/reset/" in r.url else None)
    floor.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    card.get_by_role("button", name="초기화").click()
    expect(card.get_by_role("button", name="초기화")).to_be_enabled()
    assert len(asked) == 1 and "서빙하지 않은 주문 2건이 있습니다" in asked[0], asked
    assert sent == []
    assert Order.objects.filter(table=table, archived_at__isnull=True).count() == 2

    # one ticket served: the count on the floor follows the event, and so does the question
    requests.patch(
        f"{server.url}/api/orders/{first['id']}/kitchen-status/",
        json={"kitchen_status": "cooking"},
        headers=staff_token(server, staff),
        timeout=10,
    ).raise_for_status()
    requests.patch(
        f"{server.url}/api/orders/{first['id']}/kitchen-status/",
        json={"kitchen_status": "served"},
        headers=staff_token(server, staff),
        timeout=10,
    ).raise_for_status()
    expect(card).to_have_attribute("data-open-tickets", "1", timeout=EVENT_TIMEOUT_MS)

    floor.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with floor.expect_response(lambda r: "/reset/" in r.url) as answered:
        card.get_by_role("button", name="초기화").click()
    assert "서빙하지 않은 주문 1건이 있습니다" in asked[1], asked
    assert answered.value.url.endswith("?force=true")
    assert answered.value.json() == {"archived": 2}

    expect(card).to_have_attribute("data-open-tickets", "0")
    expect(card.locator("[data-role=total]")).to_have_text("0원")
    expect(tab.locator(".order-card")).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    assert Order.objects.filter(table=table, archived_at__isnull=True).count() == 0


def test_reset_mentions_a_pre_order_still_waiting_for_its_deposit(pages, server, staff, table, mixed_menu):
    # It leaves the tab too, but a deposit later brings it back to the table and the kitchen: staff hear of it.
    place_pre_order(server, table, "홍길동", mixed_menu["beer"])
    floor = pages.staff_page(staff, "/staff/tables/")
    card = floor.locator(f'.floor-card[data-table-id="{table.pk}"]')
    expect(card).to_have_attribute("data-pending-pre-orders", "1", timeout=EVENT_TIMEOUT_MS)

    asked = []
    floor.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    card.get_by_role("button", name="초기화").click()
    expect(card.get_by_role("button", name="초기화")).to_be_enabled()
    assert len(asked) == 1 and "입금을 기다리는 선결제 주문 1건이 있습니다" in asked[0], asked
    assert "서빙하지 않은" not in asked[0]


def test_floor_counts_follow_the_events(pages, server, staff, table, other_table, mixed_menu):
    floor = pages.staff_page(staff, "/staff/tables/")
    mark_document(floor)
    card = floor.locator(f'.floor-card[data-table-id="{table.pk}"]')
    expect(card).to_have_attribute("data-open-tickets", "0")

    order = place_order(server, table, (mixed_menu["kimchi"], 2))
    expect(card).to_have_attribute("data-open-tickets", "1", timeout=EVENT_TIMEOUT_MS)
    expect(card.locator("[data-role=total]")).to_have_text("24,000원")
    expect(card.locator("[data-fact=tickets]")).to_contain_text(re.compile(r"1건 · \d+:\d\d"))

    place_pre_order(server, other_table, "홍길동", mixed_menu["beer"])
    other = floor.locator(f'.floor-card[data-table-id="{other_table.pk}"]')
    expect(other).to_have_attribute("data-pending-pre-orders", "1", timeout=EVENT_TIMEOUT_MS)
    expect(floor.locator("#pending-orders tr", has_text="홍길동")).to_be_visible()

    for step in ("cooking", "served"):
        requests.patch(
            f"{server.url}/api/orders/{order['id']}/kitchen-status/",
            json={"kitchen_status": step},
            headers=staff_token(server, staff),
            timeout=10,
        ).raise_for_status()
    expect(card).to_have_attribute("data-open-tickets", "0", timeout=EVENT_TIMEOUT_MS)
    expect(card.locator("[data-role=total]")).to_have_text("24,000원")
    assert same_document(floor)


def test_a_deposit_nobody_ordered_arrives_live_on_the_floor_with_its_outcome(pages, server, staff):
    floor = pages.staff_page(staff, "/staff/tables/")
    mark_document(floor)
    expect(floor.locator("#payments tr[data-payment-id]")).to_have_count(0)
    deliver_deposit(server, "김민수", 15000, "floor-deposit-1")
    row = floor.locator("#payments tr[data-payment-id]")
    expect(row).to_have_count(1, timeout=EVENT_TIMEOUT_MS)
    expect(row).to_have_attribute("data-outcome", "unmatched")
    expect(row).to_contain_text("김민수")
    expect(row).to_contain_text("15,000원")
    expect(row.locator(".outcome")).to_have_text("매칭 안 됨")
    expect(floor.locator("#attention-count")).to_have_text("1건")
    assert same_document(floor)


def test_a_deposit_given_back_is_marked_done_and_leaves_every_staff_screen(pages, server, staff):
    floor = pages.staff_page(staff, "/staff/tables/")
    other = pages.staff_page(staff, "/staff/tables/")
    dashboard = pages.staff_page(staff, "/staff/dashboard/")
    deliver_deposit(server, "김민수", 15000, "floor-deposit-2")
    row = floor.locator("#payments tr[data-payment-id]")
    expect(row).to_have_count(1, timeout=EVENT_TIMEOUT_MS)
    expect(other.locator("#payments tr[data-payment-id]")).to_have_count(1, timeout=EVENT_TIMEOUT_MS)
    expect(dashboard.locator('[data-kpi="attention"]')).to_have_text("1건", timeout=EVENT_TIMEOUT_MS)

    floor.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="처리 완료").click()

    expect(row).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(floor.locator("#attention-count")).to_have_text("0건")
    expect(other.locator("#payments tr[data-payment-id]")).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(dashboard.locator('[data-kpi="attention"]')).to_have_text("0건", timeout=EVENT_TIMEOUT_MS)
    other.reload()
    wait_live(other)
    expect(other.locator("#payments tr[data-payment-id]")).to_have_count(0)


def test_closed_table_waits_and_turns_into_the_menu_when_staff_open_it(opening_pages, staff, mixed_menu):
    table = TableFactory(name="C1", is_open=False)
    pages = opening_pages
    tab = pages.table_tab(table)
    mark_document(tab)
    wait = tab.locator("#wait-screen")
    expect(wait).to_be_visible()
    expect(wait).to_contain_text("곧 주문을 받을게요")
    expect(wait).to_contain_text("직원이 테이블을 열면 메뉴가 나타납니다")
    expect(tab.locator("#panel-menu")).to_be_hidden()
    expect(tab.get_by_role("tab", name="메뉴")).to_be_hidden()

    # calling staff still works from the wait screen
    tab.locator("#wait-call").click()
    tab.get_by_role("button", name="물 주세요").click()
    tab.get_by_role("button", name="직원 부르기").click()
    expect(tab.locator("#call-sheet")).to_be_hidden()

    floor = pages.staff_page(staff, "/staff/tables/")
    card = floor.locator(f'.floor-card[data-table-id="{table.pk}"]')
    expect(card).to_have_class(has_class("is-closed"))
    expect(card).to_have_attribute("data-open-calls", "1")
    card.get_by_role("button", name="열기").click()
    expect(card).to_have_class(has_class("is-open"))

    expect(wait).to_be_hidden(timeout=EVENT_TIMEOUT_MS)
    expect(tab.get_by_role("button", name="김치전 담기")).to_be_visible()
    assert same_document(tab), "the tab was reloaded"

    # open: it takes an order
    tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()
    tab.locator("#direct-order").click()
    expect(tab.locator(".order-card")).to_have_count(1)
    expect(card).to_have_attribute("data-open-tickets", "1", timeout=EVENT_TIMEOUT_MS)

    # closing says how many are unserved, archives the tab and brings the wait screen back
    asked = []
    floor.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    card.get_by_role("button", name="닫기").click()
    expect(card).to_have_class(has_class("is-closed"))
    assert "서빙하지 않은 주문 1건이 있습니다" in asked[0], asked
    expect(wait).to_be_visible(timeout=EVENT_TIMEOUT_MS)
    expect(tab.locator(".order-card")).to_have_count(0)
    assert same_document(tab)
    assert not Table.objects.get(pk=table.pk).is_open


def test_an_order_refused_as_table_closed_shows_the_wait_screen(opening_pages, opening_server, mixed_menu):
    table = TableFactory(name="C2", is_open=True)
    tab = opening_pages.table_tab(table)
    expect(tab.locator("#wait-screen")).to_be_hidden()
    with tab.expect_response(lambda r: r.url.endswith("/cart/") and r.request.method == "PUT"):
        tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()
    # closed behind the page's back (no event reached it): the order's 409 says so
    Table.objects.filter(pk=table.pk).update(is_open=False)
    with tab.expect_response(lambda r: r.url.endswith("/api/orders/")) as answered:
        tab.locator("#direct-order").click()
    assert answered.value.status == 409 and answered.value.json()["code"] == "table_closed"
    expect(tab.locator("#wait-screen")).to_be_visible()
    expect(tab.locator("#cart-sheet")).to_be_hidden()


def test_without_table_opening_a_closed_table_still_shows_the_menu(pages, table, mixed_menu):
    Table.objects.filter(pk=table.pk).update(is_open=False)
    tab = pages.table_tab(table)
    expect(tab.get_by_role("button", name="김치전 담기")).to_be_visible()
    expect(tab.locator("#wait-screen")).to_be_hidden()


def test_staff_menu_station_select_and_header_counts_stay_true(pages, server, staff, mixed_menu):
    kimchi, beer = mixed_menu["kimchi"], mixed_menu["beer"]
    staff_menu = pages.staff_page(staff, "/staff/menu/")
    counts = staff_menu.locator('[data-counts="menu"]')
    expect(counts).to_have_text("1개")

    row = staff_menu.locator(f'.menu-row[data-food-id="{kimchi.pk}"]')
    with staff_menu.expect_response(lambda r: r.url.endswith(f"/api/foods/{kimchi.pk}/")) as patched:
        row.locator("label.switch").click()
    assert patched.value.status == 200
    expect(counts).to_have_text("1개 · 품절 1")

    # a change made elsewhere (food.updated) recomputes the header too
    requests.patch(
        f"{server.url}/api/foods/{kimchi.pk}/", json={"sold_out": False}, headers=staff_token(server, staff), timeout=10
    ).raise_for_status()
    expect(counts).to_have_text("1개", timeout=EVENT_TIMEOUT_MS)

    with staff_menu.expect_request(
        lambda r: r.method == "PATCH" and r.url.endswith(f"/api/foods/{kimchi.pk}/")
    ) as sent:
        row.get_by_label("김치전 준비하는 곳").select_option("bar")
    assert sent.value.post_data_json == {"station": "bar"}
    expect(row.get_by_label("김치전 준비하는 곳")).to_have_value("bar")
    expect(row.get_by_label("김치전 준비하는 곳")).to_be_enabled()
    assert type(kimchi).objects.get(pk=kimchi.pk).station == "bar"
    beer_row = staff_menu.locator(f'.menu-row[data-food-id="{beer.pk}"]')
    expect(beer_row.get_by_label("맥주 준비하는 곳")).to_have_value("bar")
