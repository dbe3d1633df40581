"""Screenshots of the pages into docs/screenshots/ (`make screenshots`).

Serves the app in daphne on a throw-away SQLite database (migrated, seeded, a staff user, a few
orders of different ages, a sold-out item, an unmatched deposit, staff calls, TABLE_OPENING=required with
two tables left closed), then opens every page in Debian's chromium through Playwright: the table tab on
a phone (and a closed table's wait screen), the kitchen boards (expo, kitchen, bar) on a wall screen, the
staff pages on a laptop and on a phone. Never downloads a browser.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.support import CHROMIUM_ARGS  # noqa: E402
from tests.servers import Daphne  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
STAFF = ("staff", "staff1234")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
WALL = {"viewport": {"width": 1920, "height": 1080}}
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
WEBHOOK_KEY = "screenshots-webhook-key"


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL
    )


def backdate(env: dict, minutes_by_order_number: dict[str, int]) -> None:
    """Move orders back in time so the board shows tickets of different ages."""
    code = (
        "from datetime import timedelta\n"
        "from django.utils import timezone\n"
        "from ordering.models import Order, OrderItem, ticket_tenths\n"
        f"for number, minutes in {minutes_by_order_number!r}.items():\n"
        "    at = timezone.now() - timedelta(minutes=minutes)\n"
        "    Order.objects.filter(order_number=number).update(order_date=at, paid_at=at)\n"
        "    for line in OrderItem.objects.filter(order__order_number=number):\n"  # a line's times are its order's
        "        line.paid_at = at\n"
        "        line.ticket_tenths = ticket_tenths(at, line.served_at) if line.served_at else None\n"
        "        line.save(update_fields=['paid_at', 'ticket_tenths'])\n"
    )
    manage(env, "shell", "-c", code)


class Client:
    """The seeded app over HTTP: staff calls with a token, public calls without."""

    def __init__(self, base: str):
        self.base = base
        token = requests.post(f"{base}/api/auth/token/", json={"username": STAFF[0], "password": STAFF[1]}, timeout=10)
        token.raise_for_status()
        self.staff = requests.Session()
        self.staff.headers["Authorization"] = f"Token {token.json()['token']}"
        self.tables = {t["name"]: t["id"] for t in self.staff.get(f"{base}/api/tables/", timeout=10).json()}
        self.foods = {f["name"]: f for f in requests.get(f"{base}/api/foods/", timeout=10).json()}

    def order(self, table: str, **items: int) -> dict:
        lines = [{"food_id": self.foods[name]["id"], "quantity": qty} for name, qty in items.items()]
        response = requests.post(
            f"{self.base}/api/orders/", json={"table_id": self.tables[table], "items": lines}, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def pre_order(self, table: str, payer: str, **items: int) -> dict:
        lines = [{"food_id": self.foods[name]["id"], "quantity": qty} for name, qty in items.items()]
        total = sum(self.foods[name]["price"] * qty for name, qty in items.items())
        response = requests.post(
            f"{self.base}/api/orders/pre-order/{self.tables[table]}/",
            json={"payer_name": payer, "total_amount": total, "items": lines},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()

    def kitchen(self, order: dict, *steps: str, station: str | None = None) -> None:
        body = {"station": station} if station else {}
        for step in steps:
            self.staff.patch(
                f"{self.base}/api/orders/{order['id']}/kitchen-status/",
                json={"kitchen_status": step, **body},
                timeout=10,
            ).raise_for_status()

    def open_table(self, name: str) -> None:
        self.staff.post(f"{self.base}/api/tables/{self.tables[name]}/open/", timeout=10).raise_for_status()

    def food(self, name: str, **fields) -> None:
        self.staff.patch(f"{self.base}/api/foods/{self.foods[name]['id']}/", json=fields, timeout=10).raise_for_status()

    def refund(self, order: dict, name: str, quantity: int, reason: str) -> None:
        self.staff.post(
            f"{self.base}/api/orders/{order['id']}/refunds/",
            json={"items": [{"food_id": self.foods[name]["id"], "quantity": quantity}], "reason": reason},
            timeout=10,
        ).raise_for_status()

    def deposit(self, name: str, amount: int) -> None:
        body = {
            "transaction_type": "deposited",
            "transaction_name": name,
            "amount": amount,
            "bank_account_number": "100123456789",
            "bank_code": "089",
            "bank_account_id": "demo",
            "transaction_date": "2025-05-17 20:41:09",
            "processing_date": "2025-05-17 20:41:12",
            "balance": 1_000_000,
        }
        headers = {"x-webhook-key": WEBHOOK_KEY, "x-trace-id": f"shot-{abs(hash(name))}-{amount}"}
        requests.post(f"{self.base}/api/webhook/payment/", json=body, headers=headers, timeout=10).raise_for_status()

    def call_staff(self, table: str, message: str) -> None:
        requests.post(
            f"{self.base}/api/tables/{self.tables[table]}/call-staff/", json={"message": message}, timeout=10
        ).raise_for_status()


CLOSED_TABLES = ("A5", "C5")  # left closed: the floor shows them, C5's phone shows the wait screen


def seed_orders(client: Client, env: dict) -> None:
    for name in client.tables:
        if name not in CLOSED_TABLES:
            client.open_table(name)
    client.food("먹태구이", station="bar")  # a bar snack: staff moved it to the bar's screen
    late = client.order("A1", 김치전=1, 맥주=2)
    warn = client.order("B2", 해물파전=1, 소주=2)
    mid = client.order("A3", 떡볶이=2, 주먹밥=2, 콜라=2)
    fresh = client.order("C1", 닭강정=1, 막걸리=1)
    client.order("B4", 오뎅탕=1, 소주=1)
    # the table shown on the phone: one served with a refund, one cooking
    served = client.order("A2", 제육볶음=1, 먹태구이=1, 맥주=3)
    client.kitchen(served, "cooking", "served")
    client.refund(served, "맥주", 1, "잘못 나감")
    cooking = client.order("A2", 떡볶이=1, 사이다=2)
    client.kitchen(cooking, "cooking")
    partly = client.order("A2", 김치전=1, 콜라=1)  # the bar's cola is out, the pancake not yet
    client.kitchen(partly, "cooking", "served", station="bar")
    client.kitchen(warn, "cooking", "served", station="bar")  # the soju is out, the pancake still cooking
    client.kitchen(warn, "cooking", station="kitchen")
    client.kitchen(mid, "cooking", station="bar")
    to_serve = client.order("C4", 김치전=1, 콜라=1)
    client.kitchen(to_serve, "cooking")
    backdate(
        env,
        {
            late["order_number"]: 24,
            warn["order_number"]: 13,
            mid["order_number"]: 7,
            fresh["order_number"]: 3,
            served["order_number"]: 35,
            cooking["order_number"]: 9,
            to_serve["order_number"]: 16,
        },
    )
    client.food("골뱅이무침", sold_out=True)
    client.food("제육볶음", stock=3)
    client.pre_order("C3", "이영희", 해물파전=1)
    client.deposit("김민수", 15000)


def login(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/kitchen/")
    page.fill("#id_username", STAFF[0])
    page.fill("#id_password", STAFF[1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/kitchen/")


def wait_live(page) -> None:
    expect(page.locator("#live")).to_have_attribute("data-state", "open", timeout=10_000)


def ticket_of(board, table: str):
    """The board's ticket of a table, by its name (an order number may contain the same letters)."""
    return board.locator(".ticket", has=board.locator(".ticket-table", has_text=re.compile(f"^{table}$")))


def shoot(page, name: str, **kwargs) -> None:
    page.wait_for_timeout(400)  # let transitions settle (a picture, not an assertion)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), **kwargs)
    print(f"  {path.relative_to(ROOT)}")


def take(base: str, client: Client) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            laptop = browser.new_context(**LAPTOP, locale="ko-KR", timezone_id="Asia/Seoul")
            page = laptop.new_page()
            page.goto(f"{base}/accounts/login/?next=/kitchen/")
            shoot(page, "login")

            wall = browser.new_context(**WALL, locale="ko-KR", timezone_id="Asia/Seoul")
            board = wall.new_page()
            login(board, base)
            wait_live(board)
            ticket = ticket_of(board, "C4")
            ticket.get_by_role("button", name="서빙완료").click()
            expect(board.locator(".served-item", has_text="C4")).to_be_visible()
            client.order("B5", 김치전=2, 콜라=1)  # arrives live
            client.call_staff("B1", "물 좀 더 주세요")
            client.call_staff("A4", "앞접시 두 개 주세요")
            expect(board.locator(".call-banner")).to_have_count(2)
            shoot(board, "kitchen-board")
            board.goto(f"{base}/kitchen/?station=kitchen")
            wait_live(board)
            expect(board.locator(".call-banner")).to_have_count(2)  # kept across a reload
            shoot(board, "kitchen-station")
            board.goto(f"{base}/kitchen/?station=bar")
            wait_live(board)
            bar_ticket = ticket_of(board, "B5")
            bar_ticket.locator("[data-action=cooking]").click()
            expect(bar_ticket).to_have_attribute("data-kitchen-status", "cooking")
            board.locator(".call-banner", has_text="A4").get_by_role("button", name="확인").click()
            expect(board.locator(".call-banner")).to_have_count(1)
            shoot(board, "kitchen-bar")

            # the kitchen's tablet, standing upright by the pass
            tablet = browser.new_context(
                viewport={"width": 800, "height": 1280}, has_touch=True, locale="ko-KR", timezone_id="Asia/Seoul"
            )
            upright = tablet.new_page()
            login(upright, base)
            wait_live(upright)
            shoot(upright, "kitchen-tablet")

            # a laptop as the board: fewer tickets fit, the rest are counted at the bottom
            small = browser.new_context(
                viewport={"width": 1280, "height": 800}, locale="ko-KR", timezone_id="Asia/Seoul"
            )
            laptop_board = small.new_page()
            login(laptop_board, base)
            wait_live(laptop_board)
            expect(laptop_board.locator("#more-below")).to_be_visible()
            shoot(laptop_board, "kitchen-laptop")

            phone = browser.new_context(**PHONE, locale="ko-KR", timezone_id="Asia/Seoul")
            tab = phone.new_page()
            tab.goto(f"{base}/t/{client.tables['A2']}/")
            wait_live(tab)
            tab.locator(".food", has_text="김치전").get_by_role("button", name="김치전 담기").click()
            tab.locator(".food", has_text="해물파전").get_by_role("button", name="해물파전 담기").click()
            tab.locator(".food", has_text="김치전").get_by_role("button", name="더하기").click()
            shoot(tab, "table-menu")
            shoot(tab, "table-menu-full", full_page=True)
            tab.click("#cart-open")
            expect(tab.locator("#cart-sheet")).to_be_visible()
            shoot(tab, "table-cart")
            tab.click("#preorder-start")
            tab.fill("#payer-name", "박지민")
            tab.click("#preorder-submit")
            expect(tab.locator(".pay-pending")).to_be_visible()
            shoot(tab, "table-payment")
            tab.locator("#cart-sheet [data-close]").click()
            tab.get_by_role("tab", name="주문 현황").click()
            shoot(tab, "table-orders")
            shoot(tab, "table-orders-full", full_page=True)
            closed = phone.new_page()
            closed.goto(f"{base}/t/{client.tables['C5']}/")
            wait_live(closed)
            expect(closed.locator("#wait-screen")).to_be_visible()
            shoot(closed, "table-closed")

            staff = laptop.new_page()
            login(staff, base)
            staff.goto(f"{base}/staff/menu/")
            wait_live(staff)
            shoot(staff, "staff-menu")
            staff.goto(f"{base}/staff/tables/")
            wait_live(staff)
            expect(staff.locator("#pending-orders tr[data-order-id]")).to_have_count(2)
            shoot(staff, "staff-tables")
            shoot(staff, "staff-tables-full", full_page=True)
            staff.emulate_media(media="print")
            # the first printed page: one table's card, its name and QR large
            shoot(staff, "staff-tables-print", full_page=True, clip={"x": 0, "y": 0, "width": 1440, "height": 760})
            staff.emulate_media(media="screen")

            # staff walking the floor with a phone
            walking = phone.new_page()
            login(walking, base)
            walking.goto(f"{base}/staff/menu/")
            wait_live(walking)
            shoot(walking, "staff-menu-phone")
            walking.goto(f"{base}/staff/tables/")
            wait_live(walking)
            shoot(walking, "staff-tables-phone")
        finally:
            browser.close()


def warn_without_korean_font() -> None:
    """Chromium draws Hangul as empty boxes when no Korean font is installed."""
    try:
        fonts = subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return
    if not fonts.strip():
        print("warning: no Korean font found; install one first: apt-get install fonts-noto-cjk", file=sys.stderr)


def main() -> None:
    warn_without_korean_font()
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="pub-shots-"))
    env = {
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": "",  # one served process: the in-memory channel layer
        "DEBUG": "0",
        "SECRET_KEY": "screenshots-only",
        "THROTTLE": "off",
        "BACKGROUND_JOBS": "0",
        "PAYACTION_WEBHOOK_KEY": WEBHOOK_KEY,
        "BANK_ACCOUNT_NO": "100-123-456789",
        "DISCORD_WEBHOOK_URL": "",
        "PAYACTION_API_KEY": "",
        "TABLE_OPENING": "required",
        "PUBLIC_BASE_URL": "http://192.168.0.10:8000",  # what a venue's QR codes carry (not this loopback)
        "DJANGO_SUPERUSER_USERNAME": STAFF[0],
        "DJANGO_SUPERUSER_PASSWORD": STAFF[1],
    }
    try:
        started = time.monotonic()
        for command in (["migrate", "--noinput"], ["seed_data"], ["seed_tables"], ["ensure_staff"]):
            manage(env, *command)
        with Daphne(env=env) as server:
            client = Client(server.url)
            seed_orders(client, env)
            print(f"screenshots of {server.url} into {OUT.relative_to(ROOT)}/")
            take(server.url, client)
        print(f"done in {time.monotonic() - started:.0f}s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
