"""Discord alerts (CONTRACT.md section 6), sent by kitchen.services dispatchers to a fake Discord."""

import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from kitchen.services import discord_alerts_dispatch, staff_call_alerts_dispatch
from ordering.models import Order
from payments.services import order_confirm_payment, pre_orders_expire
from tests.factories import FoodFactory, TableFactory
from tests.fakes import Answer, FakeService
from tests.payments.support import deliver, deposit_body, direct_order, pre_order, wait_until

pytestmark = pytest.mark.django_db
FIELD_NAMES = ["주문번호", "입금자", "테이블", "금액", "메뉴"]


def _dispatch_until(predicate, timeout: float = 5.0):
    """Run the dispatcher the way the served app does (every few ms here) until `predicate` holds."""

    def step():
        discord_alerts_dispatch()
        return predicate()

    return wait_until(step, timeout=timeout, interval=0.02)


def _embed(request) -> dict:
    body = request.json()
    assert body["username"] == "주문알리미"
    assert len(body["embeds"]) == 1
    return body["embeds"][0]


def _fields(request) -> dict:
    return {field["name"]: field["value"] for field in _embed(request)["fields"]}


def test_one_alert_per_completed_order_and_none_for_unpaid_or_cancelled(api, table, pasta, beer, discord):
    direct = direct_order(api, table, (pasta, 2), (beer, 1)).json()
    paid = pre_order(api, table, (beer, 2), payer_name="홍길동").json()
    assert deliver(api, deposit_body("홍길동", 10000)).status_code == 200
    pre_order(api, table, (pasta, 1), payer_name="기다림")  # still pending
    expired = pre_order(api, TableFactory(), (pasta, 3), payer_name="안냄").json()
    Order.objects.filter(pk=expired["order_id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert pre_orders_expire() == 1

    delivered = discord_alerts_dispatch()
    again = discord_alerts_dispatch()

    assert (delivered, again) == (2, 0)
    requests = discord.received()
    assert len(requests) == 2
    assert {r.path for r in requests} == {"/api/webhooks/1/orders-token"}
    by_number = {_fields(r)["주문번호"]: r for r in requests}
    assert set(by_number) == {direct["order_number"], paid["order_number"]}

    direct_embed = _embed(by_number[direct["order_number"]])
    assert [f["name"] for f in direct_embed["fields"]] == FIELD_NAMES
    assert _fields(by_number[direct["order_number"]]) == {
        "주문번호": direct["order_number"],
        "입금자": "현장 주문",
        "테이블": table.name,
        "금액": "29,000원",
        "메뉴": "파스타 x2\n생맥주 x1",
    }
    assert direct_embed["title"] and isinstance(direct_embed["color"], int)
    stamp = datetime.fromisoformat(direct_embed["timestamp"])
    assert stamp.tzinfo is not None and abs(stamp - timezone.now()) < timedelta(minutes=1)

    paid_fields = _fields(by_number[paid["order_number"]])
    assert (paid_fields["입금자"], paid_fields["금액"], paid_fields["메뉴"]) == ("홍길동", "10,000원", "생맥주 x2")
    assert set(Order.objects.filter(discord_notified=True).values_list("order_number", flat=True)) == set(by_number)


def test_a_huge_order_fits_discords_limits(api, table, discord):
    foods = [FoodFactory(name=f"{n:02d}" + "아주 긴 이름의 특선 메뉴" * 7, price=1000) for n in range(50)]
    assert all(len(food.name) <= 100 for food in foods)
    response = direct_order(api, table, *[(food, 99) for food in foods])
    assert response.status_code == 201, response.json()

    assert discord_alerts_dispatch() == 1

    embed = _embed(discord.received()[0])
    assert [f["name"] for f in embed["fields"]] == FIELD_NAMES
    assert len(embed["fields"]) <= 25
    assert all(0 < len(field["value"]) <= 1024 for field in embed["fields"])
    assert len(embed["title"]) <= 256
    assert len(embed["title"]) + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]) <= 6000
    assert _fields(discord.received()[0])["메뉴"].startswith(f"{foods[0].name} x99\n")
    assert _fields(discord.received()[0])["금액"] == "4,950,000원"


def test_alerts_are_off_without_a_webhook_url_and_go_out_once_it_is_set(api, table, pasta, settings):
    order = direct_order(api, table, (pasta, 1)).json()

    assert discord_alerts_dispatch() == 0
    assert Order.objects.get(pk=order["id"]).discord_notified is False

    with FakeService() as fake:
        settings.DISCORD_WEBHOOK_URL = fake.url + "/hook"
        assert discord_alerts_dispatch() == 1
        assert [_fields(r)["주문번호"] for r in fake.received()] == [order["order_number"]]


def test_a_failed_alert_is_retried_with_backoff_and_delivered_once(api, table, pasta, discord, settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0.1  # attempt 1 waits 0.2 s, attempt 2 waits 0.4 s
    order_id = direct_order(api, table, (pasta, 1)).json()["id"]
    discord.script(Answer(500), Answer(503))

    assert discord_alerts_dispatch() == 0
    assert discord_alerts_dispatch() == 0  # backing off: not sent again at once
    assert len(discord.received()) == 1
    order = Order.objects.get(pk=order_id)
    assert (order.discord_notified, order.discord_attempts) == (False, 1)
    assert order.discord_next_attempt_at > timezone.now()

    _dispatch_until(lambda: Order.objects.get(pk=order_id).discord_notified)
    time.sleep(0.3)
    discord_alerts_dispatch()

    requests = discord.received()
    assert len(requests) == 3  # 500, 503, 204: one delivered alert
    assert requests[1].at - requests[0].at >= 0.2
    assert requests[2].at - requests[1].at >= 0.4
    assert requests[0].body == requests[2].body
    assert Order.objects.get(pk=order_id).discord_attempts == 3


def test_a_429_retry_after_is_honoured_for_every_alert(api, table, pasta, discord):
    first = direct_order(api, table, (pasta, 1)).json()["id"]
    second = direct_order(api, table, (pasta, 2)).json()["id"]
    discord.script(Answer(429, body={"message": "You are being rate limited.", "retry_after": 0.8, "global": False}))
    before = timezone.now()

    assert discord_alerts_dispatch() == 0

    assert len(discord.received()) == 1  # rate limited: the other alert waits too
    attempted = Order.objects.get(pk__in=[first, second], discord_attempts=1)
    assert attempted.discord_next_attempt_at >= before + timedelta(seconds=0.8)
    assert Order.objects.get(pk__in=[first, second], discord_attempts=0).discord_notified is False

    _dispatch_until(lambda: Order.objects.filter(pk__in=[first, second], discord_notified=True).count() == 2)

    requests = discord.received()
    assert len(requests) == 3
    assert min(r.at for r in requests[1:]) - requests[0].at >= 0.8


def test_a_slow_discord_is_waited_for_and_alerted_once(api, table, pasta, discord, settings):
    """An answer slower than a connection takes (a festival's slow uplink) is waited for: sending the alert
    again after giving up on it would post it twice."""
    settings.OUTSIDE_HTTP_TIMEOUT, settings.OUTSIDE_HTTP_READ_TIMEOUT = 0.3, 3.0
    order_id = direct_order(api, table, (pasta, 1)).json()["id"]
    discord.script(Answer(delay=1.0))

    assert discord_alerts_dispatch() == 1

    order = Order.objects.get(pk=order_id)
    assert (order.discord_notified, order.discord_attempts) == (True, 1)
    assert len(discord.received()) == 1


def test_a_discord_slower_than_the_read_timeout_is_given_up_on_and_sent_again(api, table, pasta, discord, settings):
    settings.OUTSIDE_HTTP_TIMEOUT, settings.OUTSIDE_HTTP_READ_TIMEOUT = 0.3, 0.3
    order_id = direct_order(api, table, (pasta, 1)).json()["id"]
    discord.script(Answer(delay=2.0))
    started = time.monotonic()

    assert discord_alerts_dispatch() == 0

    assert time.monotonic() - started < 1.5  # gave up after the timeout, did not wait for the answer
    order = Order.objects.get(pk=order_id)
    assert (order.discord_notified, order.discord_attempts) == (False, 1)

    _dispatch_until(lambda: Order.objects.get(pk=order_id).discord_notified)

    # The timed-out request may or may not have reached Discord; the retry is the one answered 204.
    assert len(discord.received()) == 2
    assert Order.objects.get(pk=order_id).discord_attempts == 2


def test_an_alert_discord_refuses_for_good_is_not_retried(api, table, pasta, discord):
    order_id = direct_order(api, table, (pasta, 1)).json()["id"]
    discord.script(Answer(404, body={"message": "Unknown Webhook", "code": 10015}))

    assert discord_alerts_dispatch() == 0
    Order.objects.filter(pk=order_id).update(discord_next_attempt_at=None)
    assert discord_alerts_dispatch() == 0

    assert len(discord.received()) == 1


# --- staff calls ------------------------------------------------------------------------------------


def test_a_staff_call_posts_to_the_call_webhook(api, table, discord, settings):
    with FakeService() as calls:
        settings.DISCORD_CALL_WEBHOOK_URL = calls.url + "/api/webhooks/2/calls-token"
        assert (
            api.post(f"/api/tables/{table.pk}/call-staff/", {"message": "물 좀 주세요"}, format="json").status_code
            == 202
        )

        assert staff_call_alerts_dispatch() == 1
        assert staff_call_alerts_dispatch() == 0

        [request] = calls.received()
        assert request.path == "/api/webhooks/2/calls-token"
        body = request.json()
        assert body["username"] == "직원호출"
        assert table.name in body["content"] and "물 좀 주세요" in body["content"]
        assert "embeds" not in body
    assert discord.received() == []


def test_staff_calls_fall_back_to_the_order_webhook(api, table, discord, settings):
    settings.DISCORD_CALL_WEBHOOK_URL = ""
    api.post(f"/api/tables/{table.pk}/call-staff/", {}, format="json")

    assert staff_call_alerts_dispatch() == 1

    [request] = discord.received()
    assert request.json()["username"] == "직원호출" and table.name in request.json()["content"]


def test_no_staff_call_alert_without_any_webhook(api, table):
    api.post(f"/api/tables/{table.pk}/call-staff/", {"message": "hi"}, format="json")

    assert staff_call_alerts_dispatch() == 0


def test_a_staff_call_never_pings_anyone_and_shows_its_markdown_as_typed(api, table, discord, settings):
    settings.DISCORD_CALL_WEBHOOK_URL = ""
    message = "@everyone **지금** 와주세요\n# 급해요 <@&123>"
    assert api.post(f"/api/tables/{table.pk}/call-staff/", {"message": message}, format="json").status_code == 202

    assert staff_call_alerts_dispatch() == 1

    body = discord.received()[0].json()
    assert body["allowed_mentions"] == {"parse": []}
    content = body["content"]
    assert r"\@everyone \*\*지금\*\* 와주세요" in content
    assert "\n> \\# 급해요 \\<\\@&123\\>" in content  # the second line stays quoted, escaped
    assert "**지금**" not in content


def test_an_order_alert_never_pings_anyone_for_the_payer_name(api, table, pasta, discord):
    response = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "@here*홍*", "total_amount": pasta.price, "items": [{"food_id": pasta.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 201
    order_confirm_payment(order_id=response.json()["order_id"])

    assert discord_alerts_dispatch() == 1
    body = discord.received()[0].json()
    assert body["allowed_mentions"] == {"parse": []}
    payer = next(f["value"] for f in body["embeds"][0]["fields"] if f["name"] == "입금자")
    assert payer == r"\@here\*홍\*"
