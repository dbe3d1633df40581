"""Clients that survive the pub's Wi-Fi (CONTRACT.md section 10), in chromium against a real daphne: kitchen
taps made offline are shown at once, kept across a reload and sent once each, in order; a tap that no longer
applies is dropped with a note. The phones of one table share one cart, live, and an order empties it for all.

`SECTION10_SCREENSHOTS=docs/screenshots uv run pytest tests/browser/test_offline_and_cart.py` also writes
board-offline.png, board-offline-reloaded.png and cart-two-phones.png there."""

import base64
import os
import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from core.models import StaffAction
from kitchen.models import StaffCall
from ordering.models import Order
from tests.browser.support import has_class, staff_token, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVENT_TIMEOUT_MS = 5_000
SCREENSHOTS = os.environ.get("SECTION10_SCREENSHOTS")


def place(server, table, *lines) -> dict:
    items = [{"food_id": food.pk, "quantity": quantity} for food, quantity in lines]
    response = requests.post(f"{server.url}/api/orders/", json={"table_id": str(table.pk), "items": items}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def queued_taps(page) -> list:
    return page.evaluate("JSON.parse(localStorage.getItem('board:queue:all') || '[]')")


def test_taps_made_offline_survive_a_reload_and_arrive_once_in_order(pages, server, staff, table, other_table, menu):
    first = place(server, table, (menu["kimchi"], 1))
    second = place(server, other_table, (menu["beer"], 2))
    board = pages.staff_page(staff, "/kitchen/")
    context = board.context
    first_ticket = board.locator(f'.ticket[data-order-id="{first["id"]}"]')
    second_ticket = board.locator(f'.ticket[data-order-id="{second["id"]}"]')
    expect(first_ticket).to_have_attribute("data-kitchen-status", "queued")
    expect(second_ticket).to_have_attribute("data-kitchen-status", "queued")
    # its page and files are kept for a reload without the network (the board's service worker)
    expect(board.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)

    context.set_offline(True)
    sync = board.locator("#sync")
    expect(sync).to_have_attribute("data-state", "offline")
    expect(sync).to_contain_text("연결 끊김")

    # start and serve the first ticket, start the second: each shows at once and waits
    first_ticket.get_by_role("button", name="조리시작").click()
    expect(first_ticket).to_have_attribute("data-kitchen-status", "cooking")
    expect(first_ticket).to_have_attribute("data-pending", "true")
    first_ticket.get_by_role("button", name="서빙완료").click()
    expect(first_ticket).to_have_count(0)
    expect(board.locator(f'.served-item[data-order-id="{first["id"]}"]')).to_be_visible()
    second_ticket.get_by_role("button", name="조리시작").click()
    expect(second_ticket).to_have_attribute("data-kitchen-status", "cooking")
    expect(board.locator("#sync-text")).to_have_text("연결 끊김 · 보낼 탭 3개")

    # the age timers keep running while offline
    age = second_ticket.locator("[data-role=age]")
    before = age.inner_text()
    expect(age).not_to_have_text(before, timeout=3_000)
    if SCREENSHOTS:
        board.screenshot(path=str(Path(SCREENSHOTS) / "board-offline.png"))

    taps = queued_taps(board)
    assert [(t["orderId"], t["body"]) for t in taps] == [
        (first["id"], {"kitchen_status": "cooking", "from_status": "queued"}),
        (first["id"], {"kitchen_status": "served", "from_status": "cooking"}),
        (second["id"], {"kitchen_status": "cooking", "from_status": "queued"}),
    ]
    assert len({t["key"] for t in taps}) == 3
    assert Order.objects.get(pk=first["id"]).kitchen_status == "queued"  # nothing reached the server

    # meanwhile another screen starts the second ticket: the board's own start no longer applies
    token = staff_token(server, staff)
    requests.patch(
        f"{server.url}/api/orders/{second['id']}/kitchen-status/",
        json={"kitchen_status": "cooking"},
        headers=token,
        timeout=10,
    ).raise_for_status()

    # the board is reloaded while still offline: it opens as it was, the taps still waiting on their tickets
    board.reload()
    again = board
    first_ticket = again.locator(f'.ticket[data-order-id="{first["id"]}"]')
    second_ticket = again.locator(f'.ticket[data-order-id="{second["id"]}"]')
    expect(second_ticket).to_have_attribute("data-kitchen-status", "cooking")
    expect(second_ticket).to_have_attribute("data-pending", "true")
    expect(first_ticket).to_have_count(0)
    expect(again.locator(f'.served-item[data-order-id="{first["id"]}"]')).to_be_visible()
    expect(again.locator("#sync")).to_have_attribute("data-state", "offline")
    expect(again.locator("#sync-text")).to_contain_text("연결 끊김 · 보낼 탭 3개")
    expect(again.locator("#sync-text")).to_contain_text("기준 화면")
    if SCREENSHOTS:
        again.screenshot(path=str(Path(SCREENSHOTS) / "board-offline-reloaded.png"))
    assert queued_taps(again) == taps

    # then back online
    sent = []
    again.on(
        "request",
        lambda r: (
            sent.append((r.url, r.post_data_json, r.headers.get("idempotency-key")))
            if r.method == "PATCH" and "/kitchen-status/" in r.url
            else None
        ),
    )
    context.set_offline(False)
    wait_live(again)

    note = again.locator(".sync-note")
    expect(note).to_have_count(1, timeout=EVENT_TIMEOUT_MS)
    expect(note).to_contain_text("B2 주문의 '조리시작'은 다른 화면에서 이미 바뀌어 적용하지 않았어요")
    expect(again.locator("#sync")).to_be_hidden()
    assert queued_taps(again) == []
    expect(again.locator(f'.ticket[data-order-id="{first["id"]}"]')).to_have_count(0)
    expect(again.locator(f'.ticket[data-order-id="{second["id"]}"]')).to_have_attribute(
        "data-kitchen-status", "cooking"
    )

    # the first ticket's two taps arrived once each, in order, with the keys made when tapped
    assert sent == [
        (
            f"{server.url}/api/orders/{first['id']}/kitchen-status/",
            {"kitchen_status": "cooking", "from_status": "queued"},
            taps[0]["key"],
        ),
        (
            f"{server.url}/api/orders/{first['id']}/kitchen-status/",
            {"kitchen_status": "served", "from_status": "cooking"},
            taps[1]["key"],
        ),
    ]
    assert Order.objects.get(pk=first["id"]).kitchen_status == "served"
    actions = StaffAction.objects.filter(action="kitchen_status").order_by("created_at", "id")
    assert [(a.detail["order_id"], a.detail["kitchen_status"]) for a in actions] == [
        (second["id"], "cooking"),
        (first["id"], "cooking"),
        (first["id"], "served"),
    ]

    # a resend of a tap whose answer was lost is answered again and changes nothing
    replay = requests.patch(
        f"{server.url}/api/orders/{first['id']}/kitchen-status/",
        json={"kitchen_status": "cooking", "from_status": "queued"},  # the body the board sent: the key is bound to it
        headers={**token, "Idempotency-Key": taps[0]["key"]},
        timeout=10,
    )
    assert replay.status_code == 200 and replay.headers.get("Idempotent-Replayed") == "true"
    assert Order.objects.get(pk=first["id"]).kitchen_status == "served"
    assert StaffAction.objects.filter(action="kitchen_status").count() == 3

    # the note goes when someone reads it
    note.get_by_role("button", name="확인").click()
    expect(note).to_have_count(0)


def kept_keys(page) -> list:
    return page.evaluate("Object.keys(localStorage).filter((key) => key.startsWith('board:kept:'))")


def test_after_a_logout_the_board_is_not_kept_for_an_offline_visitor(pages, server, staff, table, menu):
    order = place(server, table, (menu["kimchi"], 1))
    board = pages.staff_page(staff, "/kitchen/")
    expect(board.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)
    board.goto(f"{server.url}/kitchen/?station=kitchen")  # a station's page is kept too
    wait_live(board)
    expect(board.locator(f'.ticket[data-order-id="{order["id"]}"]')).to_be_visible()
    board.wait_for_function("Object.keys(localStorage).some((key) => key.startsWith('board:kept:'))")

    board.get_by_role("button", name="로그아웃").click()
    expect(board).to_have_url(re.compile(r"/accounts/login/"))
    assert kept_keys(board) == []  # the last tickets are gone with the login

    board.context.set_offline(True)  # at once: nobody opened the board again online first
    for path in ("/kitchen/", "/kitchen/?station=kitchen"):
        with pytest.raises(PlaywrightError, match="ERR_"):
            board.goto(f"{server.url}{path}")


def test_a_reset_tables_tickets_do_not_come_back_on_an_offline_reload(pages, server, staff, table, other_table, menu):
    reset = place(server, table, (menu["kimchi"], 1))
    stays = place(server, other_table, (menu["kimchi"], 2))
    board = pages.staff_page(staff, "/kitchen/")
    expect(board.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)
    expect(board.locator(f'.ticket[data-order-id="{reset["id"]}"]')).to_be_visible()
    requests.delete(
        f"{server.url}/api/tables/{table.pk}/orders/reset/?force=true", headers=staff_token(server, staff), timeout=10
    ).raise_for_status()
    expect(board.locator(f'.ticket[data-order-id="{reset["id"]}"]')).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    board.wait_for_timeout(1_000)  # the board keeps what it knows at most every half second

    board.context.set_offline(True)
    board.reload()
    expect(board.locator(f'.ticket[data-order-id="{stays["id"]}"]')).to_be_visible()
    expect(board.locator(f'.ticket[data-order-id="{reset["id"]}"]')).to_have_count(0)


@pytest.mark.parametrize(
    "kept",
    [
        pytest.param("{orders: [{id: 'x', status: 'completed', items: [{station: 'kitchen'}]}]}", id="an-older-shape"),
        pytest.param("{at: new Date(Date.now() - 13 * 3600e3).toISOString(), orders: KEPT.orders}", id="last-night"),
        pytest.param("'{not json'", id="unreadable"),
    ],
)
def test_a_kept_copy_that_cannot_be_used_is_forgotten_and_the_board_still_goes_live(
    pages, server, staff, table, menu, kept
):
    order = place(server, table, (menu["kimchi"], 1))
    board = pages.staff_page(staff, "/kitchen/")
    expect(board.locator("body")).to_have_attribute("data-offline-ready", "true", timeout=EVENT_TIMEOUT_MS)
    board.wait_for_function("localStorage.getItem('board:kept:v1:all') !== null")
    board.evaluate(
        f"""() => {{
            const KEPT = JSON.parse(localStorage.getItem('board:kept:v1:all'));
            const copy = {kept};
            localStorage.setItem('board:kept:v1:all', typeof copy === 'string' ? copy : JSON.stringify(copy));
        }}"""
    )
    board.context.set_offline(True)
    board.reload()
    expect(board.locator("#sync")).to_have_attribute("data-state", "offline")
    expect(board.locator(".ticket")).to_have_count(0)  # nothing shown from it

    board.context.set_offline(False)
    wait_live(board)
    expect(board.locator(f'.ticket[data-order-id="{order["id"]}"]')).to_be_visible()


def start_and_lose_the_answer(pages, server, staff, order):
    """A board taps 'start' on the order; the tap reaches the server, then the Wi-Fi drops before its answer
    comes back, and the tablet is shut. Returns the context (offline) and the queued tap."""
    board = pages.staff_page(staff, "/kitchen/")
    context = board.context
    ticket = board.locator(f'.ticket[data-order-id="{order["id"]}"]')
    expect(ticket).to_have_attribute("data-kitchen-status", "queued")

    def lose_the_answer(route):
        route.fetch()
        context.set_offline(True)
        route.abort("internetdisconnected")

    board.route("**/kitchen-status/", lose_the_answer, times=1)
    ticket.get_by_role("button", name="조리시작").click()
    expect(board.locator("#sync-text")).to_have_text("연결 끊김 · 보낼 탭 1개")
    assert Order.objects.get(pk=order["id"]).kitchen_status == "cooking"
    [tap] = queued_taps(board)
    board.close()
    return context, tap


def test_a_tap_applied_whose_answer_was_lost_is_confirmed_by_its_key_after_a_reload(pages, server, staff, table, menu):
    order = place(server, table, (menu["kimchi"], 1))
    context, tap = start_and_lose_the_answer(pages, server, staff, order)

    # the tablet is restarted online: its snapshot already shows the start, which only the key can explain
    context.set_offline(False)
    sent = []
    again = pages.new_page(context)
    again.on(
        "response",
        lambda r: (
            sent.append((r.request.headers.get("idempotency-key"), r.status, r.headers.get("idempotent-replayed")))
            if r.request.method == "PATCH"
            else None
        ),
    )
    again.goto(f"{server.url}/kitchen/")
    wait_live(again)
    expect(again.locator("#sync")).to_be_hidden()
    assert sent == [(tap["key"], 200, "true")]
    expect(again.locator(".sync-note")).to_have_count(0)
    expect(again.locator(f'.ticket[data-order-id="{order["id"]}"]')).to_have_attribute("data-kitchen-status", "cooking")
    assert queued_taps(again) == []
    assert StaffAction.objects.filter(action="kitchen_status", detail__order_id=order["id"]).count() == 1


def test_a_start_whose_answer_was_lost_is_not_sent_again_onto_a_ticket_served_since(pages, server, staff, table, menu):
    order = place(server, table, (menu["kimchi"], 1))
    context, _ = start_and_lose_the_answer(pages, server, staff, order)

    # meanwhile the pass serves it from another screen: the ticket leaves every board
    requests.patch(
        f"{server.url}/api/orders/{order['id']}/kitchen-status/",
        json={"kitchen_status": "served"},
        headers=staff_token(server, staff),
        timeout=10,
    ).raise_for_status()

    # a reload knows nothing but its queue and a snapshot without the ticket: the start must not come back
    context.set_offline(False)
    sent = []
    again = pages.new_page(context)
    again.on("request", lambda r: sent.append(r.url) if r.method == "PATCH" else None)
    again.goto(f"{server.url}/kitchen/")
    wait_live(again)
    expect(again.locator(".sync-note")).to_contain_text(
        "A1 주문의 '조리시작'은 다른 화면에서 이미 바뀌어 적용하지 않았어요"
    )
    expect(again.locator("#sync")).to_be_hidden()
    assert sent == []
    assert queued_taps(again) == []
    expect(again.locator(f'.ticket[data-order-id="{order["id"]}"]')).to_have_count(0)
    assert Order.objects.get(pk=order["id"]).kitchen_status == "served"


def test_a_tap_the_server_refuses_is_dropped_with_a_note(pages, server, staff, table, menu):
    order = place(server, table, (menu["kimchi"], 1))
    token = staff_token(server, staff)
    requests.patch(
        f"{server.url}/api/orders/{order['id']}/kitchen-status/",
        json={"kitchen_status": "cooking"},
        headers=token,
        timeout=10,
    ).raise_for_status()
    board = pages.staff_page(staff, "/kitchen/")
    ticket = board.locator(f'.ticket[data-order-id="{order["id"]}"]')
    expect(ticket).to_have_attribute("data-kitchen-status", "cooking")

    # served elsewhere while the board is offline and never heard of it (its socket is held back too)
    board.context.set_offline(True)
    ticket.get_by_role("button", name="서빙완료").click()
    expect(ticket).to_have_count(0)
    requests.patch(
        f"{server.url}/api/orders/{order['id']}/kitchen-status/",
        json={"kitchen_status": "served"},
        headers=token,
        timeout=10,
    ).raise_for_status()
    # the event may reach the board over a socket the emulation keeps open: either way the tap must not
    # apply twice, and whoever finds out (the board from the event, or the server's 409) says so
    board.context.set_offline(False)
    note = board.locator(".sync-note")
    expect(note).to_contain_text("A1 주문의 '서빙완료'는 다른 화면에서 이미 바뀌어 적용하지 않았어요", timeout=20_000)
    expect(board.locator("#sync")).to_be_hidden()
    assert StaffAction.objects.filter(action="kitchen_status", detail__order_id=order["id"]).count() == 2
    assert Order.objects.get(pk=order["id"]).kitchen_status == "served"


def test_a_start_tapped_offline_is_not_sent_as_a_recall_onto_a_ticket_served_elsewhere(
    pages, server, staff, table, menu
):
    """The Wi-Fi blips: the board's socket stays open but hears nothing, the cook taps 조리시작, the pass starts
    and serves the ticket elsewhere. Back online, the board sends its tap before it hears of those moves:
    the server, told what the cook saw, refuses it rather than take it for a recall."""
    order = place(server, table, (menu["kimchi"], 1))
    deaf = {"on": False}
    context = pages.context()

    def relay(page_side):
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda message: None if deaf["on"] else page_side.send(message))
        page_side.on_message(lambda message: None if deaf["on"] else server_side.send(message))

    context.route_web_socket(re.compile(r".*/ws/kitchen/.*"), relay)
    board = pages.staff_page(staff, "/kitchen/", context)
    ticket = board.locator(f'.ticket[data-order-id="{order["id"]}"]')
    expect(ticket).to_have_attribute("data-kitchen-status", "queued")

    deaf["on"] = True
    context.set_offline(True)
    ticket.get_by_role("button", name="조리시작").click()
    token = staff_token(server, staff)
    for move in ("cooking", "served"):
        requests.patch(
            f"{server.url}/api/orders/{order['id']}/kitchen-status/",
            json={"kitchen_status": move},
            headers=token,
            timeout=10,
        ).raise_for_status()
    with board.expect_response(lambda r: r.request.method == "PATCH") as answered:
        context.set_offline(False)
    deaf["on"] = False

    assert answered.value.status == 409
    expect(board.locator(".sync-note")).to_contain_text(
        "A1 주문의 '조리시작'은 다른 화면에서 이미 바뀌어 적용하지 않았어요"
    )
    assert Order.objects.get(pk=order["id"]).kitchen_status == "served"
    expect(ticket).to_have_count(0, timeout=20_000)


def cart_of(server, table) -> dict:
    response = requests.get(f"{server.url}/api/tables/{table.pk}/cart/", timeout=10)
    assert response.status_code == 200, response.text
    return {item["food_id"]: item["quantity"] for item in response.json()["items"]}


def shown_cart(tab) -> dict:
    """The cart as a phone shows it, read from the open cart sheet."""
    lines = tab.locator("#cart-sheet .cart-line")
    return {
        int(line.get_attribute("data-food-id")): int(line.locator(".stepper-value").inner_text())
        for line in lines.all()
    }


def side_by_side(page, left: bytes, right: bytes, path: str) -> None:
    """Two phone screenshots on one image, drawn by the browser itself (no imaging library needed)."""
    shots = [base64.b64encode(shot).decode() for shot in (left, right)]
    page.set_viewport_size({"width": 2 * 390 + 3 * 24, "height": 844 + 2 * 24})
    page.set_content(
        "<body style='margin:0;padding:24px;display:flex;gap:24px;background:#d6d3d1'>"
        + "".join(f"<img style='width:390px;border-radius:18px' src='data:image/png;base64,{s}'>" for s in shots)
        + "</body>"
    )
    page.screenshot(path=path)


def test_two_phones_share_the_cart_and_an_order_empties_it_for_both(pages, server, staff, table, menu):
    kimchi, beer = menu["kimchi"], menu["beer"]
    one = pages.table_tab(table)
    two = pages.table_tab(table)

    one.get_by_role("button", name="김치전 담기").click()
    one.locator(f'.food[data-food-id="{kimchi.pk}"]').get_by_role("button", name="더하기").click()
    kimchi_on_two = two.locator(f'.food[data-food-id="{kimchi.pk}"]')
    expect(kimchi_on_two.locator(".stepper-value")).to_have_text("2", timeout=EVENT_TIMEOUT_MS)
    two.get_by_role("tab", name="음료").click()
    two.get_by_role("button", name="맥주 담기").click()
    expect(one.locator("#cart-count")).to_have_text("3", timeout=EVENT_TIMEOUT_MS)

    # both add a pancake at the same moment: the later write meets cart_changed and adds on top, both count
    two.get_by_role("tab", name="메뉴").click()
    with (
        one.expect_response(lambda r: r.request.method == "PUT"),
        two.expect_response(lambda r: r.request.method == "PUT"),
    ):
        one.locator(f'.food[data-food-id="{kimchi.pk}"]').get_by_role("button", name="더하기").click()
        kimchi_on_two.get_by_role("button", name="더하기").click()
    for tab in (one, two):
        expect(tab.locator(f'.food[data-food-id="{kimchi.pk}"] .stepper-value')).to_have_text(
            "4", timeout=EVENT_TIMEOUT_MS
        )
        expect(tab.locator("#cart-count")).to_have_text("5")
    assert cart_of(server, table) == {kimchi.pk: 4, beer.pk: 1}

    for tab in (one, two):
        tab.locator("#cart-open").click()
        expect(tab.locator("#sheet-total")).to_have_text("53,000원")
        assert shown_cart(tab) == cart_of(server, table)

    # beer sells out: it stays in both carts, marked, and the order is refused naming it
    requests.patch(
        f"{server.url}/api/foods/{beer.pk}/", json={"sold_out": True}, headers=staff_token(server, staff), timeout=10
    ).raise_for_status()
    beer_line = two.locator(f'#cart-sheet .cart-line[data-food-id="{beer.pk}"]')
    expect(beer_line).to_have_class(has_class("is-sold_out"), timeout=EVENT_TIMEOUT_MS)
    expect(beer_line).to_contain_text("품절")
    expect(one.locator(f'#cart-sheet .cart-line[data-food-id="{beer.pk}"]')).to_contain_text("품절")
    if SCREENSHOTS:
        shots = (one.screenshot(), two.screenshot())
        side_by_side(pages.new_page(pages.context()), *shots, str(Path(SCREENSHOTS) / "cart-two-phones.png"))
    with two.expect_response(lambda r: r.url.endswith("/api/orders/")) as refused:
        two.locator("#direct-order").click()
    assert refused.value.status == 409 and refused.value.json()["code"] == "sold_out"
    assert refused.value.request.post_data_json["cart_version"] >= 1
    expect(two.locator("#cart-sheet .form-error")).to_contain_text("맥주")
    expect(beer_line).to_have_class(has_class("is-refused"))
    assert Order.objects.count() == 0
    assert cart_of(server, table) == {kimchi.pk: 4, beer.pk: 1}  # a refused order leaves the cart as it was

    # out with the beer, order again: the cart empties on both phones without a reload
    beer_line.get_by_role("button", name="빼기").click()
    expect(one.locator(f'#cart-sheet .cart-line[data-food-id="{beer.pk}"]')).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    with two.expect_response(lambda r: r.url.endswith("/api/orders/")) as placed:
        two.locator("#direct-order").click()
    assert placed.value.status == 201, placed.value.text()
    body = placed.value.request.post_data_json
    assert body["items"] == [{"food_id": kimchi.pk, "quantity": 4}]
    assert (
        body["cart_version"]
        == requests.get(f"{server.url}/api/tables/{table.pk}/cart/", timeout=10).json()["version"] - 1
    )

    expect(two.locator(".order-card")).to_have_count(1)
    expect(one.locator("#cart-sheet .cart-line")).to_have_count(0, timeout=EVENT_TIMEOUT_MS)
    expect(one.locator("#cart-sheet")).to_contain_text("장바구니가 비었어요")
    one.locator("#cart-sheet [data-close]").click()
    expect(one.locator("#cart-bar")).to_be_hidden()
    expect(one.locator(f'.food[data-food-id="{kimchi.pk}"]').get_by_role("button", name="김치전 담기")).to_be_visible()
    assert cart_of(server, table) == {}
    order = Order.objects.get()
    assert [(item.food_id, item.quantity) for item in order.items.all()] == [(kimchi.pk, 4)]


def test_a_cart_line_whose_food_left_the_menu_is_shown_as_unavailable(pages, server, table, menu):
    kimchi, seafood = menu["kimchi"], menu["seafood"]
    put = requests.put(
        f"{server.url}/api/tables/{table.pk}/cart/",
        json={"items": [{"food_id": kimchi.pk, "quantity": 1}, {"food_id": seafood.pk, "quantity": 2}], "version": 0},
        timeout=10,
    )
    assert put.status_code == 200, put.text
    seafood_id = seafood.pk
    seafood.delete()  # taken off the menu (the admin) after someone put it in the cart

    tab = pages.table_tab(table)
    expect(tab.locator("#cart-count")).to_have_text("3")
    tab.locator("#cart-open").click()
    gone = tab.locator(f'#cart-sheet .cart-line[data-food-id="{seafood_id}"]')
    expect(gone).to_have_class(has_class("is-missing"))
    expect(gone).to_contain_text("메뉴에 없는 항목")
    expect(gone).to_contain_text("지금은 주문할 수 없어요")
    expect(gone.get_by_role("button", name="더하기")).to_be_disabled()
    expect(tab.locator("#sheet-total")).to_have_text("12,000원")

    # taking it out writes the cart without it
    with tab.expect_response(lambda r: r.request.method == "PUT") as written:
        gone.get_by_role("button", name="빼기").click()
        gone.get_by_role("button", name="빼기").click()
    assert written.value.status == 200, written.value.text()
    expect(gone).to_have_count(0)
    assert cart_of(server, table) == {kimchi.pk: 1}


def test_a_refused_line_is_unmarked_when_staff_restock_it(pages, server, staff, table, menu):
    kimchi = menu["kimchi"]
    tab = pages.table_tab(table)
    with tab.expect_response(lambda r: r.request.method == "PUT"):
        tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()
    Food = type(kimchi)
    Food.objects.filter(pk=kimchi.pk).update(sold_out=True)  # behind the page's back: the order finds out
    with tab.expect_response(lambda r: r.url.endswith("/api/orders/")) as refused:
        tab.locator("#direct-order").click()
    assert refused.value.status == 409
    line = tab.locator(f'#cart-sheet .cart-line[data-food-id="{kimchi.pk}"]')
    expect(line).to_have_class(has_class("is-refused"))
    expect(tab.locator("#cart-sheet .form-error")).to_contain_text("김치전")

    requests.patch(
        f"{server.url}/api/foods/{kimchi.pk}/", json={"sold_out": False}, headers=staff_token(server, staff), timeout=10
    ).raise_for_status()

    expect(line).not_to_have_class(has_class("is-refused"), timeout=EVENT_TIMEOUT_MS)
    expect(tab.locator("#cart-sheet .form-error")).to_have_count(0)


def order_requests(page) -> list:
    """The Idempotency-Key of every order the phone sends, in order."""
    keys = []
    page.on(
        "request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.url.endswith("/api/orders/") else None
    )
    return keys


def test_an_order_whose_answer_was_lost_is_sent_again_and_placed_once(pages, server, table, menu):
    tab = pages.table_tab(table)
    keys = order_requests(tab)
    tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()

    def lose_the_answer(route):
        route.fetch()  # the order reaches the server and is placed; the Wi-Fi drops its answer
        route.abort("connectionreset")

    tab.route("**/api/orders/", lose_the_answer, times=1)
    tab.locator("#direct-order").click()

    expect(tab.locator(".toast")).to_contain_text("주문이 접수되었어요", timeout=EVENT_TIMEOUT_MS)
    expect(tab.locator(".order-card")).to_have_count(1)
    # Sent again with its key, unless the socket's order.created told the page first (then once).
    assert keys[0] and set(keys) == {keys[0]}, keys
    assert Order.objects.count() == 1


def test_an_order_unanswered_while_offline_says_a_new_tap_is_safe_and_shows_the_one_order(pages, server, table, menu):
    tab = pages.table_tab(table)
    tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()

    def lose_the_answer(route):
        tab.context.set_offline(True)  # the Wi-Fi drops while the order is on its way, and stays down
        route.fetch()  # (Playwright's own request: the order still reaches the server)
        route.abort("internetdisconnected")

    tab.route("**/api/orders/", lose_the_answer, times=1)
    tab.locator("#direct-order").click()

    expect(tab.locator("#direct-order")).to_contain_text("다시 보내는 중")  # its own retries, with the same key
    expect(tab.locator("#cart-sheet .form-error")).to_contain_text("같은 주문은 한 번만 접수돼요", timeout=10_000)
    tab.context.set_offline(False)
    expect(tab.locator(".order-card")).to_have_count(1, timeout=20_000)  # the socket's next snapshot
    assert Order.objects.count() == 1


def test_a_new_tap_after_an_unanswered_order_sends_its_key_again_and_places_one_order(pages, server, table, menu):
    tab = pages.new_page(pages.context(phone=True))
    deaf = {"on": False}  # the socket hears nothing while the Wi-Fi is down (no cart.updated to empty the cart)

    def relay(page_side):
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda message: None if deaf["on"] else page_side.send(message))
        page_side.on_message(server_side.send)

    tab.route_web_socket(re.compile(r".*/ws/tables/.*"), relay)
    tab.goto(f"{server.url}/t/{table.pk}/")
    wait_live(tab)
    keys = order_requests(tab)
    tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()

    def lose_the_answer(route):
        deaf["on"] = True
        route.fetch()
        route.abort("internetdisconnected")

    tab.route("**/api/orders/", lambda route: route.abort("internetdisconnected"))  # the page's own retries
    tab.route("**/api/orders/", lose_the_answer, times=1)  # the latest route is tried first
    tab.locator("#direct-order").click()
    expect(tab.locator("#cart-sheet .form-error")).to_contain_text("같은 주문은 한 번만 접수돼요", timeout=10_000)

    tab.unroute("**/api/orders/")
    tab.locator("#direct-order").click()  # the guest, still seeing the cart, taps again

    expect(tab.locator(".toast")).to_contain_text("주문이 접수되었어요", timeout=EVENT_TIMEOUT_MS)
    assert len(keys) == 4 and len(set(keys)) == 1, keys
    assert Order.objects.count() == 1


def relayed_tab(pages, server, table, deaf: dict):
    """A phone whose table socket goes through a relay that, while deaf["on"], passes nothing either way: a
    link that died without closing (the Wi-Fi gone, the socket still "open")."""
    tab = pages.new_page(pages.context(phone=True))

    def relay(page_side):
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda message: None if deaf["on"] else page_side.send(message))
        page_side.on_message(lambda message: None if deaf["on"] else server_side.send(message))

    tab.route_web_socket(re.compile(r".*/ws/tables/.*"), relay)
    tab.goto(f"{server.url}/t/{table.pk}/")
    wait_live(tab)
    return tab


def test_a_socket_that_died_without_closing_is_noticed_within_seconds_and_replaced(pages, server, table, menu):
    deaf = {"on": False}
    tab = relayed_tab(pages, server, table, deaf)

    deaf["on"] = True
    order = place(server, table, (menu["kimchi"], 1))  # unheard by the dead link
    expect(tab.locator("#live")).not_to_have_attribute("data-state", "open", timeout=30_000)
    deaf["on"] = False

    wait_live(tab)
    expect(tab.locator(f'.order-card[data-order-id="{order["id"]}"]')).to_have_count(1)


def test_a_cart_tap_whose_answer_was_lost_counts_once(pages, server, table, menu):
    kimchi = menu["kimchi"]
    tab = pages.table_tab(table)

    def lose_the_answer(route):
        route.fetch()  # the server takes the tap (and tells the socket); the answer is lost
        route.abort("connectionreset")

    tab.route("**/cart/", lose_the_answer, times=1)
    with tab.expect_request(lambda r: r.method == "PUT"):
        tab.get_by_role("button", name="김치전 담기").click()
    tab.wait_for_timeout(2_000)  # any retry would have gone out by now

    assert cart_of(server, table) == {kimchi.pk: 1}
    expect(tab.locator(f'.food[data-food-id="{kimchi.pk}"] .stepper-value')).to_have_text("1")


def test_a_cart_tap_whose_answer_was_lost_counts_once_when_another_phone_wrote_since(pages, server, table, menu):
    """The tap lands, another phone's write lands on top, then the tap's answer is lost: its resend (the same
    key) is told it landed, rather than being refused as stale and put on top a second time."""
    kimchi, beer = menu["kimchi"], menu["beer"]
    tab = pages.table_tab(table)
    keys = []

    def lose_the_answer(route):
        route.fetch()  # the server takes the tap: version 1
        other_phone = {"items": [{"food_id": kimchi.pk, "quantity": 1}, {"food_id": beer.pk, "quantity": 1}]}
        response = requests.put(
            f"{server.url}/api/tables/{table.pk}/cart/", json={**other_phone, "version": 1}, timeout=10
        )
        assert response.status_code == 200, response.text
        route.abort("connectionreset")

    tab.on("request", lambda r: keys.append(r.headers.get("idempotency-key")) if r.method == "PUT" else None)
    tab.route("**/cart/", lose_the_answer, times=1)
    tab.get_by_role("button", name="김치전 담기").click()
    # Every count the pancake's line shows from now on, also while the resend is on its way.
    tab.evaluate(
        """(id) => {
        window.shownCounts = [];
        new MutationObserver(() => {
            const value = document.querySelector(`.food[data-food-id="${id}"] .stepper-value`);
            if (value) window.shownCounts.push(value.textContent);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
    }""",
        kimchi.pk,
    )

    expect(tab.locator(f'.food[data-food-id="{beer.pk}"] .stepper-value')).to_have_text("1", timeout=EVENT_TIMEOUT_MS)
    tab.wait_for_timeout(2_000)  # the resend has gone out and been answered by now
    assert cart_of(server, table) == {kimchi.pk: 1, beer.pk: 1}
    expect(tab.locator(f'.food[data-food-id="{kimchi.pk}"] .stepper-value')).to_have_text("1")
    assert "2" not in tab.evaluate("window.shownCounts"), "the lost write was shown twice meanwhile"
    assert len(keys) == 2 and keys[0] and set(keys) == {keys[0]}, keys  # the lost send and its resend


def test_a_tap_made_offline_and_another_phones_same_tap_both_count(pages, server, table, menu):
    """Phone A taps 김치전 offline; phone B, online, taps 김치전 too. The server's cart then looks just like A's
    write would have made it, but A's never landed: when A is back, the table has two."""
    kimchi = menu["kimchi"]
    phone_a, phone_b = pages.table_tab(table), pages.table_tab(table)
    phone_a.context.set_offline(True)
    with phone_a.expect_request(lambda r: r.method == "PUT"):
        phone_a.get_by_role("button", name="김치전 담기").click()

    with phone_b.expect_response(lambda r: r.request.method == "PUT") as answered:
        phone_b.get_by_role("button", name="김치전 담기").click()
    assert answered.value.status == 200
    phone_a.context.set_offline(False)

    for phone in (phone_a, phone_b):
        expect(phone.locator(f'.food[data-food-id="{kimchi.pk}"] .stepper-value')).to_have_text("2", timeout=15_000)
    assert cart_of(server, table) == {kimchi.pk: 2}


def test_a_staff_call_whose_answer_was_lost_is_sent_again_and_made_once(pages, server, table, menu):
    tab = pages.table_tab(table)
    keys = []
    tab.on("request", lambda r: keys.append(r.headers.get("idempotency-key")) if "call-staff" in r.url else None)

    def lose_the_answer(route):
        route.fetch()  # the call is made; the Wi-Fi drops its answer
        route.abort("connectionreset")

    tab.route("**/call-staff/", lose_the_answer, times=1)
    tab.locator("#call-open").click()
    tab.locator("#call-message").fill("물 좀 주세요")
    tab.locator("#call-send").click()

    expect(tab.locator(".toast")).to_contain_text("직원을 불렀어요", timeout=EVENT_TIMEOUT_MS)
    assert StaffCall.objects.count() == 1
    assert len(keys) == 2 and keys[0] and set(keys) == {keys[0]}, keys


def test_a_call_much_later_is_a_new_call_not_the_lost_one_again(pages, server, table, menu):
    """The guest gave up on a call whose every answer was lost; minutes later they call again with the same
    (empty) message: that is a new call, which must reach the staff, not be answered as the old one."""
    tab = pages.new_page(pages.context(phone=True))
    tab.clock.install()
    tab.goto(f"{server.url}/t/{table.pk}/")
    wait_live(tab)
    keys = []
    tab.on("request", lambda r: keys.append(r.headers.get("idempotency-key")) if "call-staff" in r.url else None)

    def lose_the_answer(route):
        route.fetch()
        route.abort("connectionreset")

    tab.route("**/call-staff/", lose_the_answer)  # the first send and both resends: made once, never answered
    tab.locator("#call-open").click()
    tab.locator("#call-send").click()
    expect(tab.locator("#call-error")).to_contain_text("다시 누르셔도 한 번만 호출돼요", timeout=10_000)
    tab.unroute("**/call-staff/")

    tab.clock.fast_forward("05:00")
    tab.locator("#call-send").click()

    expect(tab.locator(".toast")).to_contain_text("직원을 불렀어요", timeout=EVENT_TIMEOUT_MS)
    assert len(keys) == 4 and len(set(keys[:3])) == 1 and keys[3] != keys[0], keys
    assert StaffCall.objects.count() == 2


def test_a_staff_call_unanswered_while_offline_says_a_new_tap_is_safe(pages, server, table, menu):
    tab = pages.table_tab(table)

    def lose_the_answer(route):
        tab.context.set_offline(True)
        route.fetch()
        route.abort("internetdisconnected")

    tab.route("**/call-staff/", lose_the_answer, times=1)
    tab.locator("#call-open").click()
    tab.locator("#call-send").click()

    expect(tab.locator("#call-send")).to_contain_text("다시 보내는 중")
    expect(tab.locator("#call-error")).to_contain_text("다시 누르셔도 한 번만 호출돼요", timeout=10_000)
    tab.context.set_offline(False)
    tab.locator("#call-send").click()

    expect(tab.locator(".toast")).to_contain_text("직원을 불렀어요", timeout=EVENT_TIMEOUT_MS)
    assert StaffCall.objects.count() == 1


def test_an_order_whose_every_answer_was_lost_is_confirmed_by_the_socket(pages, server, table, menu):
    tab = pages.table_tab(table)
    tab.get_by_role("button", name="김치전 담기").click()
    tab.locator("#cart-open").click()

    def lose_the_answer(route):
        route.fetch()
        route.abort("connectionreset")

    tab.route("**/api/orders/", lambda route: route.abort("connectionreset"))  # every retry fails too
    tab.route("**/api/orders/", lose_the_answer, times=1)
    tab.locator("#direct-order").click()

    expect(tab.locator(".toast")).to_contain_text("주문이 접수되었어요", timeout=EVENT_TIMEOUT_MS)
    expect(tab.locator(".order-card")).to_have_count(1)
    assert Order.objects.count() == 1


def test_offline_with_the_socket_still_open_says_the_screen_may_be_stale(pages, server, table, menu):
    """The browser knows it is offline before the socket does: the phone says so at once, not a minute later."""
    tab = pages.table_tab(table)

    tab.context.set_offline(True)

    expect(tab.locator("body")).to_have_class(has_class("live-lost"), timeout=6_000)
    expect(tab.locator(".offline-banner")).to_be_visible()
    tab.context.set_offline(False)
    expect(tab.locator("body")).not_to_have_class(has_class("live-lost"), timeout=30_000)


def test_back_online_the_banner_stays_until_the_socket_is_heard_again(pages, server, table, menu):
    """The Wi-Fi comes back but the socket died meanwhile (a relay that passes nothing): the phone must not
    call its screen live on the browser's word alone."""
    deaf = {"on": False}
    tab = relayed_tab(pages, server, table, deaf)
    deaf["on"] = True
    tab.context.set_offline(True)
    expect(tab.locator("body")).to_have_class(has_class("live-lost"), timeout=6_000)

    tab.context.set_offline(False)
    tab.wait_for_timeout(3_000)
    expect(tab.locator("body")).to_have_class(has_class("live-lost"))

    deaf["on"] = False  # the link carries again: its next message (a pong, a heartbeat or a new snapshot)
    expect(tab.locator("body")).not_to_have_class(has_class("live-lost"), timeout=30_000)
    wait_live(tab)


def test_particles_after_a_payer_name_ending_in_a_number_are_read_as_said(pages, server, table, menu):
    """A payer name ending in 51 (read 오십일, ending in a consonant) takes 과: the pages' own particle helper."""
    tab = pages.table_tab(table)
    common = tab.evaluate("() => new URL('common.js', document.querySelector('script[type=module]').src).href")

    said = tab.evaluate(
        """async (url) => {
            const { particle } = await import(url);
            return ["박민수51", "홍길동2", "김치전", "맥주", "A10"].map((word) => particle(word, "과", "와"));
        }""",
        common,
    )

    assert said == ["과", "와", "과", "와", "과"]
