"""End to end: customer tab, kitchen board and staff pages in chromium, against a real daphne process.

Every change crosses the real path: a click in one page -> HTTP -> service -> event after commit ->
socket -> another page. Nothing is reloaded; waits are Playwright expectations with timeouts.
"""

import re
import time
from datetime import datetime

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from ordering.models import KitchenStatus, Order
from tests.browser.support import (
    STAFF_PASSWORD,
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
from tests.servers import Daphne

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVENT_TIMEOUT_MS = 5_000


def add_to_cart(tab, food_name: str, times: int = 1) -> None:
    tab.get_by_role("button", name=f"{food_name} 담기").click()
    card = tab.locator(".food", has_text=food_name)
    for _ in range(times - 1):
        card.get_by_role("button", name="더하기").click()
    expect(card.locator(".stepper-value")).to_have_text(str(times))


def test_order_on_table_tab_appears_on_kitchen_board_without_reload(pages, staff, table, menu):
    board = pages.staff_page(staff, "/kitchen/")
    mark_document(board)
    expect(board.locator(".ticket")).to_have_count(0)

    tab = pages.table_tab(table)
    add_to_cart(tab, "김치전", times=2)
    tab.get_by_role("tab", name="음료").click()
    add_to_cart(tab, "맥주")
    tab.locator("#cart-open").click()
    expect(tab.locator("#sheet-total")).to_have_text("29,000원")
    tab.locator("#direct-order").click()
    order_card = tab.locator(".order-card")
    expect(order_card).to_have_count(1)
    order_number = order_card.locator(".order-no").inner_text()

    ticket = board.locator(".ticket", has_text=order_number)
    expect(ticket).to_be_visible(timeout=EVENT_TIMEOUT_MS)
    expect(ticket.locator(".ticket-table")).to_have_text("A1")
    expect(ticket.locator(".ticket-items .ticket-food")).to_have_text(["김치전", "맥주"])
    expect(ticket.locator(".ticket-items .ticket-qty")).to_have_text(["2", "1"])
    expect(ticket.locator(".ticket-items .line-station")).to_have_text(["바"])  # the expo view names the bar's lines
    expect(ticket.get_by_role("button", name="조리시작")).to_be_enabled()
    expect(board.locator("#allday")).to_contain_text("김치전")
    assert same_document(board), "the board was reloaded"


def test_sold_out_switch_greys_the_item_on_an_open_table_tab_within_a_second(pages, staff, table, menu):
    kimchi = menu["kimchi"]
    tab = pages.table_tab(table)
    item = tab.locator(f'.food[data-food-id="{kimchi.pk}"]')
    expect(item).not_to_have_class(has_class("sold-out"))
    expect(item.get_by_role("button", name="김치전 담기")).to_be_enabled()

    staff_menu = pages.staff_page(staff, "/staff/menu/")
    row = staff_menu.locator(f'.menu-row[data-food-id="{kimchi.pk}"]')
    with staff_menu.expect_response(lambda r: r.url.endswith(f"/api/foods/{kimchi.pk}/")) as patched:
        row.locator("label.switch").click()
    assert patched.value.status == 200

    expect(item).to_have_class(has_class("sold-out"), timeout=1_000)
    expect(item.get_by_role("button", name="김치전 품절")).to_be_disabled(timeout=1_000)
    expect(item.locator(".badge-soldout")).to_have_text("품절")
    expect(row.get_by_role("switch", name="김치전 품절")).to_be_checked()
    expect(row.get_by_role("switch", name="김치전 품절")).to_be_enabled()  # the first PATCH has settled

    with staff_menu.expect_response(lambda r: r.url.endswith(f"/api/foods/{kimchi.pk}/")) as patched:
        row.locator("label.switch").click()
    assert patched.value.status == 200
    expect(item).not_to_have_class(has_class("sold-out"), timeout=1_000)


def test_staff_menu_stock_edit_is_pushed_and_out_of_stock_shows_the_detail(pages, staff, table, menu):
    seafood = menu["seafood"]
    tab = pages.table_tab(table)
    item = tab.locator(f'.food[data-food-id="{seafood.pk}"]')
    expect(item.locator(".badge")).to_have_text("5개 남음")

    staff_menu = pages.staff_page(staff, "/staff/menu/")
    row = staff_menu.locator(f'.menu-row[data-food-id="{seafood.pk}"]')
    row.get_by_label("해물파전 남은 수량").fill("0")
    with staff_menu.expect_response(lambda r: r.url.endswith(f"/api/foods/{seafood.pk}/")) as saved:
        row.get_by_role("button", name="저장").click()
    assert saved.value.status == 200
    expect(item).to_have_class(has_class("sold-out"), timeout=EVENT_TIMEOUT_MS)
    switch = row.get_by_role("switch", name="해물파전 품절")
    expect(switch).to_be_checked()
    expect(switch).to_be_enabled()  # the switch is off while the save is in flight, as for a person

    # stock 0: selling again is refused (409 out_of_stock) and the row says why
    with staff_menu.expect_response(lambda r: r.url.endswith(f"/api/foods/{seafood.pk}/")) as refused:
        row.locator("label.switch").click()
    assert refused.value.status == 409
    assert refused.value.json()["code"] == "out_of_stock"
    expect(row.locator(".row-error")).to_have_text(refused.value.json()["detail"])
    expect(row.get_by_role("switch", name="해물파전 품절")).to_be_checked()
    expect(item).to_have_class(has_class("sold-out"))


def test_a_price_the_server_refuses_is_named_in_its_row(pages, staff, menu):
    kimchi = menu["kimchi"]
    staff_menu = pages.staff_page(staff, "/staff/menu/")
    row = staff_menu.locator(f'.menu-row[data-food-id="{kimchi.pk}"]')
    row.get_by_label("김치전 가격").fill("20000000")
    with staff_menu.expect_response(lambda r: r.url.endswith(f"/api/foods/{kimchi.pk}/")) as refused:
        row.get_by_role("button", name="저장").click()

    assert refused.value.status == 400
    expect(row.locator(".row-error")).to_contain_text("가격: ")
    expect(row.locator(".row-error")).not_to_contain_text("price")


def test_kitchen_buttons_update_the_table_tab_and_recall_brings_the_ticket_back(pages, server, staff, table, menu):
    order = place_order(server, table, (menu["kimchi"], 1))
    tab = pages.table_tab(table)
    card = tab.locator(f'.order-card[data-order-id="{order["id"]}"]')
    tab.get_by_role("tab", name="주문 현황").click()
    expect(card.locator("[data-role=order-status]")).to_have_text("대기")

    board = pages.staff_page(staff, "/kitchen/")
    ticket = board.locator(f'.ticket[data-order-id="{order["id"]}"]')
    ticket.get_by_role("button", name="조리시작").click()
    expect(card.locator("[data-role=order-status]")).to_have_text("조리중", timeout=EVENT_TIMEOUT_MS)

    ticket.get_by_role("button", name="서빙완료").click()
    expect(card.locator("[data-role=order-status]")).to_have_text("서빙완료", timeout=EVENT_TIMEOUT_MS)
    expect(card).to_have_attribute("data-kitchen-status", "served")
    expect(ticket).to_have_count(0)  # served tickets leave the board...
    served = board.locator(f'.served-item[data-order-id="{order["id"]}"]')
    expect(served).to_be_visible()  # ...into the "방금 서빙" strip

    served.get_by_role("button", name="되돌리기").click()
    expect(ticket).to_be_visible()
    expect(ticket.get_by_role("button", name="서빙완료")).to_be_visible()
    expect(card.locator("[data-role=order-status]")).to_have_text("조리중", timeout=EVENT_TIMEOUT_MS)
    expect(served).to_have_count(0)


def test_board_reconnects_after_the_server_restarts_and_shows_the_same_tickets(
    pages, server, server_env, staff, table, other_table, menu
):
    first = place_order(server, table, (menu["kimchi"], 1))
    second = place_order(server, other_table, (menu["beer"], 3))
    board = pages.staff_page(staff, "/kitchen/")
    mark_document(board)
    numbers = board.locator(".ticket .ticket-number")
    expect(numbers).to_have_text([first["order_number"], second["order_number"]])

    server.stop()  # the socket drops
    expect(board.locator("#live")).not_to_have_attribute("data-state", "open", timeout=EVENT_TIMEOUT_MS)
    # Changed while the board was away: the new snapshot, not the old screen, must win.
    Order.objects.filter(pk=second["id"]).update(kitchen_status=KitchenStatus.COOKING)

    with Daphne(env=server_env, port=server.port):
        wait_live(board, timeout=30_000)
        expect(numbers).to_have_text([first["order_number"], second["order_number"]])
        expect(board.locator(f'.ticket[data-order-id="{second["id"]}"]')).to_have_attribute(
            "data-kitchen-status", "cooking"
        )
        assert same_document(board), "the board was reloaded instead of reconnecting"

        # and it is live again: a new order arrives as a ticket
        third = place_order(server, table, (menu["seafood"], 1))
        expect(board.locator(f'.ticket[data-order-id="{third["id"]}"]')).to_be_visible(timeout=EVENT_TIMEOUT_MS)


def start_pre_order(tab, payer_name: str, food_name: str) -> None:
    add_to_cart(tab, food_name)
    tab.locator("#cart-open").click()
    tab.locator("#preorder-start").click()
    tab.locator("#payer-name").fill(payer_name)
    tab.locator("#preorder-submit").click()


def test_pre_order_confirmed_by_staff_turns_paid_on_the_table_tab(pages, staff, table, menu):
    tab = pages.table_tab(table)
    start_pre_order(tab, "홍길동", "해물파전")
    status = tab.locator("#cart-sheet .pay-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(status).to_contain_text("입금 확인 중")
    expect(status).to_contain_text("보내는 사람 이름이 홍길동과 같으면")  # 과 after a final consonant, not "(와)과"
    expect(tab.locator("#toss-link")).to_have_attribute("href", re.compile(r"^supertoss://send\?amount=15000&bank="))
    # The account in words beside the link (tests.servers gives every served process one).
    expect(tab.locator("#bank-account")).to_have_text(re.compile(r"100-200-300$"))
    mark_document(tab)

    tables = pages.staff_page(staff, "/staff/tables/")
    row = tables.locator("#pending-orders tr", has_text="홍길동")
    expect(row).to_contain_text("15,000원")
    tables.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="입금 확인").click()

    expect(status).to_have_attribute("data-status", "paid", timeout=EVENT_TIMEOUT_MS)
    expect(status).to_contain_text("결제 완료")
    expect(tab.locator("#pay-banner")).to_be_hidden()
    assert same_document(tab)
    expect(row).to_have_count(0)


def test_a_pre_order_paid_after_its_table_was_reset_turns_paid_on_its_open_pay_sheet(pages, server, staff, table, menu):
    """The reset archived the pending pre-order: no event of the table tells of its payment any more. The open
    pay sheet must not go on offering the transfer for money already paid."""
    tab = pages.table_tab(table)
    start_pre_order(tab, "홍길동", "해물파전")
    status = tab.locator("#cart-sheet .pay-status")
    expect(status).to_have_attribute("data-status", "pending")
    headers = staff_token(server, staff)
    with tab.expect_response(lambda r: "/payment-status/" in r.url) as asked:  # the sheet asks, as it is unpaid
        reset = requests.delete(
            f"{server.url}/api/tables/{table.pk}/orders/reset/?force=true", headers=headers, timeout=10
        )
    assert reset.status_code == 200, reset.text
    assert asked.value.json()["order_status"] == "pre_order"
    pending = Order.objects.get(payer_name="홍길동")
    confirmed = requests.post(f"{server.url}/api/orders/{pending.pk}/confirm-payment/", headers=headers, timeout=10)
    assert confirmed.status_code == 200, confirmed.text

    expect(status).to_have_attribute("data-status", "paid", timeout=10_000)
    expect(tab.locator("#toss-link")).to_have_count(0)


def test_another_phone_of_the_table_can_pay_a_pre_order_it_did_not_place(pages, table, menu):
    tab = pages.table_tab(table)
    friend = pages.table_tab(table)  # another phone: its own browser storage
    start_pre_order(tab, "홍길동", "해물파전")
    expect(tab.locator("#toss-link")).to_be_visible()

    banner = friend.locator("#pay-banner")
    expect(banner).to_contain_text("입금 확인 중", timeout=EVENT_TIMEOUT_MS)
    banner.get_by_role("button", name="결제하기").click()
    status = friend.locator("#cart-sheet .pay-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(status).to_contain_text("홍길동")
    expect(friend.locator("#toss-link")).to_have_attribute("href", re.compile(r"^supertoss://send\?amount=15000&bank="))
    expect(friend.locator("#bank-account")).to_have_text(re.compile(r"100-200-300$"))


def test_a_pay_sheet_that_cannot_ask_offers_a_retry_and_never_asks_in_a_loop(pages, server, table, menu):
    """Another phone's pre-order has no pay link on this one: the sheet asks the API. When that fails, it says
    so once and waits for the guest, rather than asking again at every redraw."""
    place_pre_order(server, table, "홍길동", menu["seafood"])
    friend = pages.table_tab(table)
    asked = []
    friend.on("request", lambda r: asked.append(r.url) if "/payment-status/" in r.url else None)
    friend.route("**/payment-status/", lambda route: route.abort("connectionreset"))

    friend.locator("#pay-banner").get_by_role("button", name="결제하기").click()
    retry = friend.locator("#cart-sheet").get_by_role("button", name="다시 불러오기")
    expect(retry).to_be_visible()
    friend.wait_for_timeout(3_000)
    assert len(asked) == 1, asked

    friend.unroute("**/payment-status/")
    retry.click()
    expect(friend.locator("#toss-link")).to_have_attribute("href", re.compile(r"^supertoss://send\?amount=15000&bank="))


@pytest.fixture
def expiring(browser, server_env):
    """A served process that runs its periodic jobs (pre-order expiry among them), and pages on it."""
    with Daphne(env={**server_env, "BACKGROUND_JOBS": "1", "BACKGROUND_JOBS_INTERVAL": "0.2"}) as server:
        opened = Pages(browser, server)
        yield opened
        opened.close()


def test_a_pre_order_that_expired_unpaid_goes_back_into_the_cart_with_one_tap(expiring, staff, table, menu):
    pages, server = expiring, expiring.server
    tab = pages.table_tab(table)
    add_to_cart(tab, "해물파전", times=2)
    start_pre_order(tab, "홍길동", "김치전")
    status = tab.locator("#cart-sheet .pay-status")
    expect(status).to_have_attribute("data-status", "pending")
    expect(tab.locator("#cart-bar")).to_be_hidden()  # the pre-order emptied the cart

    # its time runs out unpaid: the server's expiry job cancels it and the sheet says so
    Order.objects.filter(table=table, status="pre_order").update(expires_at=timezone.now())
    expect(status).to_have_attribute("data-status", "cancelled", timeout=EVENT_TIMEOUT_MS)
    # meanwhile only one 해물파전 is left
    token = requests.post(
        f"{server.url}/api/auth/token/", json={"username": staff.username, "password": STAFF_PASSWORD}, timeout=10
    ).json()["token"]
    requests.patch(
        f"{server.url}/api/foods/{menu['seafood'].pk}/",
        json={"stock": 1},
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    ).raise_for_status()
    expect(tab.locator(".food", has_text="해물파전")).to_contain_text("1개 남음", timeout=EVENT_TIMEOUT_MS)

    status.get_by_role("button", name="같은 메뉴 다시 담기").click()
    expect(tab.locator("#cart-sheet-title")).to_have_text("장바구니")
    expect(tab.locator("#cart-sheet .cart-lines")).to_contain_text("김치전")
    expect(tab.locator("#toasts")).to_contain_text("해물파전은 품절이거나 남은 수량이 모자라 다 담지 못했어요")
    expected = sorted(
        [{"food_id": menu["kimchi"].pk, "quantity": 1}, {"food_id": menu["seafood"].pk, "quantity": 1}],
        key=lambda item: item["food_id"],
    )
    # the table's shared cart on the server holds them again, once the phone's write went out
    cart_url = f"{server.url}/api/tables/{table.pk}/cart/"
    deadline = time.monotonic() + EVENT_TIMEOUT_MS / 1000
    while sorted(requests.get(cart_url, timeout=10).json()["items"], key=lambda item: item["food_id"]) != expected:
        assert time.monotonic() < deadline, requests.get(cart_url, timeout=10).json()
        time.sleep(0.1)

    # once only: the order card's button says it is done
    tab.locator("#cart-sheet [data-close]").click()
    tab.get_by_role("tab", name="주문 현황").click()
    again = tab.locator(".order-card[data-status=cancelled]").get_by_role("button", name="다시 담았어요")
    expect(again).to_be_disabled()


def test_a_late_deposit_that_revives_an_expired_pre_order_is_told_on_the_phone(expiring, table, menu):
    pages, server = expiring, expiring.server
    tab = pages.table_tab(table)
    start_pre_order(tab, "이준호", "김치전")
    status = tab.locator("#cart-sheet .pay-status")
    expect(status).to_have_attribute("data-status", "pending")
    Order.objects.filter(table=table, status="pre_order").update(expires_at=timezone.now())
    expect(status).to_have_attribute("data-status", "cancelled", timeout=EVENT_TIMEOUT_MS)

    deliver_deposit(server, "이준호", 12000, "browser-late-deposit")

    # the guest last read "취소": the phone says the order is back, so that it is not ordered and paid twice
    expect(status).to_have_attribute("data-status", "paid", timeout=EVENT_TIMEOUT_MS)
    expect(tab.locator("#toasts")).to_contain_text("취소됐던 주문이 다시 접수됐어요")


def test_pre_order_paid_by_deposit_webhook_turns_paid_on_the_table_tab(pages, server, table, menu):
    tab = pages.table_tab(table)
    start_pre_order(tab, "김영수", "김치전")
    status = tab.locator("#cart-sheet .pay-status")
    expect(status).to_have_attribute("data-status", "pending")
    tab.locator("#cart-sheet [data-close]").click()
    expect(tab.locator("#pay-banner")).to_contain_text("입금 확인 중")

    deliver_deposit(server, "김영수", 12000, "browser-deposit-1")

    expect(tab.locator("#pay-banner")).to_be_hidden(timeout=EVENT_TIMEOUT_MS)
    tab.get_by_role("tab", name="주문 현황").click()
    card = tab.locator(".order-card")
    expect(card).to_have_attribute("data-status", "completed")
    expect(card.locator("[data-role=order-status]")).to_have_text("대기")
    expect(tab.locator("#total-spent")).to_have_text("12,000원")


def test_staff_call_from_the_tab_shows_a_dismissable_banner_on_the_board(pages, staff, table):
    board = pages.staff_page(staff, "/kitchen/")
    tab = pages.table_tab(table)
    tab.get_by_role("button", name="직원 호출").click()
    tab.get_by_role("button", name="물 주세요").click()
    tab.get_by_role("button", name="직원 부르기").click()
    expect(tab.locator("#call-sheet")).to_be_hidden()

    banner = board.locator(".call-banner")
    expect(banner).to_contain_text("A1", timeout=EVENT_TIMEOUT_MS)
    expect(banner).to_contain_text("물 주세요")
    banner.get_by_role("button", name="확인").click()
    expect(banner).to_have_count(0)


def test_many_unpaid_pre_orders_leave_the_menu_in_view(pages, server, table, menu):
    for name in ("김철수", "홍길동", "이영희", "가" * 20):
        place_pre_order(server, table, name, menu["kimchi"])

    tab = pages.table_tab(table)

    banner = tab.locator("#pay-banner")
    expect(banner.locator(".pay-banner-row[data-order-id]")).to_have_count(2)
    expect(banner.locator(".pay-banner-more")).to_contain_text("입금 확인 중인 주문 2건 더")
    banner.get_by_role("button", name="주문 현황").click()
    expect(tab.locator(".order-card")).to_have_count(4)


def test_a_long_staff_call_takes_two_lines_of_the_board_not_half_of_it(pages, server, staff, table, menu):
    message = "저희 테이블에 물이랑 앞접시 좀 더 주시고 김치전 언제 나오는지 알려주세요 " * 4
    message = message[:200]
    called = requests.post(f"{server.url}/api/tables/{table.pk}/call-staff/", json={"message": message}, timeout=10)
    assert called.status_code == 202, called.text

    board = pages.staff_page(staff, "/kitchen/", pages.context(viewport={"width": 1920, "height": 1080}))
    banner = board.locator(".call-banner")
    expect(banner).to_have_count(1)

    assert banner.bounding_box()["height"] <= 130
    expect(banner.locator(".call-message")).to_have_attribute("title", message.strip())


def test_table_reset_clears_the_tab_and_the_board(pages, server, staff, table, other_table, menu):
    mine = place_order(server, table, (menu["kimchi"], 1))
    theirs = place_order(server, other_table, (menu["beer"], 1))
    tab = pages.table_tab(table)
    tab.get_by_role("tab", name="주문 현황").click()
    expect(tab.locator(".order-card")).to_have_count(1)
    expect(tab.locator("#total-spent")).to_have_text("12,000원")
    board = pages.staff_page(staff, "/kitchen/")
    expect(board.locator(".ticket")).to_have_count(2)

    tables = pages.staff_page(staff, "/staff/tables/", context=board.context)
    qr = tables.locator(f'.qr-card[data-table-id="{table.pk}"]')
    expect(qr.locator(".qr-code svg")).to_be_visible()
    expect(qr.locator(".qr-url")).to_have_text(f"{server.url}/t/{table.pk}/")
    card = tables.locator(f'.floor-card[data-table-id="{table.pk}"]')
    tables.once("dialog", lambda dialog: dialog.accept())  # one unserved ticket: reset anyway
    card.get_by_role("button", name="초기화").click()

    expect(board.locator(f'.ticket[data-order-id="{mine["id"]}"]')).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(board.locator(f'.ticket[data-order-id="{theirs["id"]}"]')).to_be_visible()
    expect(tab.locator(".order-card")).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(tab.locator("#total-spent")).to_have_text("0원")


def test_a_ticket_served_part_by_part_shows_on_the_phone_line_by_line(pages, server, staff, table, menu):
    order = place_order(server, table, (menu["kimchi"], 1), (menu["beer"], 2))
    tab = pages.table_tab(table)
    tab.get_by_role("tab", name="주문 현황").click()
    card = tab.locator(f".order-card[data-order-id='{order['id']}']")
    expect(card.locator("[data-role=order-status]")).to_have_text("대기")

    token = requests.post(
        f"{server.url}/api/auth/token/", json={"username": staff.username, "password": STAFF_PASSWORD}, timeout=10
    ).json()["token"]
    for kitchen_status in ("cooking", "served"):  # the bar pours the beer; the kitchen has not started
        requests.patch(
            f"{server.url}/api/orders/{order['id']}/kitchen-status/",
            json={"kitchen_status": kitchen_status, "station": "bar"},
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        ).raise_for_status()

    expect(card.locator("[data-role=order-status]")).to_have_text("일부 나왔어요", timeout=EVENT_TIMEOUT_MS)
    expect(card.locator("li[data-kitchen-status=served]")).to_contain_text("맥주")
    expect(card.locator("li[data-kitchen-status=served]")).to_contain_text("✓ 나왔어요")
    expect(card.locator("li[data-kitchen-status=queued]")).not_to_contain_text("나왔어요")


def test_a_phone_set_to_another_time_zone_shows_the_pubs_clock(pages, server, table, menu):
    order = place_order(server, table, (menu["kimchi"], 1))
    seoul = timezone.localtime(datetime.fromisoformat(order["order_date"])).strftime("%H:%M")
    tab = pages.new_page(pages.context(phone=True, timezone_id="America/New_York"))
    tab.goto(f"{server.url}/t/{table.pk}/")
    wait_live(tab)
    tab.get_by_role("tab", name="주문 현황").click()

    expect(tab.locator(".order-card .order-time")).to_have_text(seoul)


def test_the_payer_name_typed_is_kept_when_the_sheet_is_closed_midway(pages, table, menu):
    tab = pages.table_tab(table)
    add_to_cart(tab, "김치전")
    tab.locator("#cart-open").click()
    tab.locator("#preorder-start").click()
    tab.locator("#payer-name").fill("김민지")
    tab.locator("#cart-sheet [data-close]").click()

    tab.locator("#cart-open").click()
    tab.locator("#preorder-start").click()

    expect(tab.locator("#payer-name")).to_have_value("김민지")


def test_the_board_says_how_many_tickets_wait_below_the_screen(pages, server, staff, table, menu):
    board = pages.staff_page(staff, "/kitchen/", context=pages.context(viewport={"width": 1280, "height": 800}))
    for _ in range(8):
        place_order(server, table, (menu["kimchi"], 1), (menu["beer"], 1))
    expect(board.locator("#tickets .ticket")).to_have_count(8, timeout=EVENT_TIMEOUT_MS)

    more = board.locator("#more-below")
    expect(more).to_be_visible()
    expect(more).to_have_text(re.compile(r"^아래에 주문 \d+건 더 있어요"))
    below = int(re.search(r"\d+", more.inner_text()).group())
    assert 0 < below < 8

    more.click()
    board.mouse.wheel(0, 5000)
    expect(more).to_be_hidden()


def test_the_tab_says_how_much_is_paid_and_how_much_is_paid_later(pages, server, table, menu):
    place_order(server, table, (menu["kimchi"], 1))  # a direct order: paid at the counter later
    place_pre_order(server, table, "김영수", menu["beer"], 2)
    deliver_deposit(server, "김영수", 10000, "browser-split-1")
    tab = pages.table_tab(table)
    tab.get_by_role("tab", name="주문 현황").click()

    expect(tab.locator("#total-spent")).to_have_text("22,000원")
    expect(tab.locator("#total-split")).to_have_text("선결제 완료 10,000원 · 나중에 계산 12,000원")


def test_a_toast_is_put_away_with_a_tap(pages, table):
    tab = pages.table_tab(table)
    tab.get_by_role("button", name="직원 호출").click()
    tab.get_by_role("button", name="물 주세요").click()
    tab.get_by_role("button", name="직원 부르기").click()
    toast = tab.locator("#toasts .toast").first
    expect(toast).to_be_visible()

    toast.dispatch_event("click")  # a tap; Playwright waits for its entry animation otherwise

    expect(tab.locator("#toasts .toast")).to_have_count(0, timeout=1_000)  # it would stay 4.5 s on its own
