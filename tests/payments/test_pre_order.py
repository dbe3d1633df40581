"""POST /api/orders/pre-order/{table_id}/ and GET /api/orders/{id}/payment-status/ (CONTRACT.md section 4)."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ordering.events import GROUP_KITCHEN, GROUP_MENU, table_group
from ordering.models import Food, Order
from payments.services import pre_orders_expire
from tests.api.support import db_state
from tests.factories import FoodFactory, TableFactory
from tests.payments.support import capture_events, in_commit, lines, pre_order

pytestmark = pytest.mark.django_db


def test_pre_order_answers_the_contract_body_and_reserves_stock(api, table, pasta, beer):
    before = timezone.now()

    response = pre_order(api, table, (pasta, 1), (beer, 3), payer_name="홍길동")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {
        "order_id",
        "order_number",
        "redirect_url",
        "message",
        "total_amount",
        "expires_at",
        "bank_name",
        "bank_account_no",
    }
    assert body["total_amount"] == 27000
    assert body["message"]
    order = Order.objects.get(pk=body["order_id"])
    assert order.status == "pre_order" and order.paid_at is None
    assert order.payer_name == "홍길동" and order.total_amount == 27000
    assert order.order_number == body["order_number"] and len(body["order_number"]) <= 22
    assert parse_datetime(body["expires_at"]) == order.expires_at
    assert before + timedelta(minutes=30) <= order.expires_at <= timezone.now() + timedelta(minutes=30)
    beer.refresh_from_db()
    assert beer.stock == 1 and beer.sold_out is False


def test_redirect_url_is_the_toss_link(api, table, pasta, settings):
    settings.BANK_NAME = "KB 국민은행"
    settings.BANK_ACCOUNT_NO = "123-456-7890"

    response = pre_order(api, table, (pasta, 2))

    assert response.status_code == 201
    assert response.json()["redirect_url"] == (
        f"supertoss://send?amount=24000&bank={quote('KB 국민은행', safe='')}&accountNo=123-456-7890&origin=qr"
    )
    assert "bank=KB%20%EA%B5%AD%EB%AF%BC%EC%9D%80%ED%96%89&" in response.json()["redirect_url"]


def test_reserving_the_last_units_sells_the_food_out_and_tells_every_tab(
    api, table, beer, django_capture_on_commit_callbacks
):
    groups = [GROUP_MENU, table_group(table.pk), GROUP_KITCHEN]
    run = in_commit(django_capture_on_commit_callbacks, lambda: pre_order(api, table, (beer, 4)))

    response, events = capture_events(groups, run)

    assert response.status_code == 201
    beer.refresh_from_db()
    assert beer.stock == 0 and beer.sold_out is True
    assert [e["type"] for e in events[GROUP_MENU]] == ["food.updated"]
    assert events[GROUP_MENU][0]["food"] == {**_food_json(beer), "stock": 0, "sold_out": True}
    assert [e["type"] for e in events[table_group(table.pk)]] == ["order.created"]
    assert events[table_group(table.pk)][0]["order"]["id"] == response.json()["order_id"]
    assert events[table_group(table.pk)][0]["order"]["status"] == "pre_order"
    assert events[GROUP_KITCHEN] == []  # unpaid: not a ticket yet


def test_order_numbers_are_short_and_unique(api, table, pasta):
    numbers = []
    for index in range(12):
        response = pre_order(api, table, (pasta, 1), payer_name=f"손님{index}")
        assert response.status_code == 201
        numbers.append(response.json()["order_number"])
    numbers.append(
        api.post("/api/orders/", {"table_id": str(table.pk), "items": lines((pasta, 1))}, format="json").json()[
            "order_number"
        ]
    )

    assert len(set(numbers)) == 13
    assert all(0 < len(number) <= 22 for number in numbers)


def test_a_wrong_total_is_refused_with_the_server_total_and_nothing_is_written(
    api, table, pasta, beer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = pre_order(api, table, (pasta, 1), (beer, 2), total=1)

    assert response.status_code == 400
    assert response.json()["code"] == "amount_mismatch"
    assert response.json()["expected"] == 22000
    assert Order.objects.count() == 0
    beer.refresh_from_db()
    assert beer.stock == 4 and beer.sold_out is False
    assert callbacks == []  # no event queued


def test_a_second_pending_pre_order_with_the_same_payer_and_amount_is_refused(
    api, table, pasta, beer, django_capture_on_commit_callbacks
):
    first = pre_order(api, table, (pasta, 1), payer_name="김민수")
    assert first.status_code == 201
    other_table = TableFactory()

    with django_capture_on_commit_callbacks() as callbacks:
        second = pre_order(api, other_table, (pasta, 1), payer_name=" 김민수 ")

    assert second.status_code == 409
    assert second.json()["code"] == "payer_name_in_use"
    assert second.json()["detail"]
    assert Order.objects.count() == 1
    assert callbacks == []


def test_one_name_in_two_unicode_spellings_is_one_payer(api, table, pasta):
    composed, decomposed = "정규화", "\u110c\u1165\u11bc\u1100\u1172\u1112\u116a"  # NFC and NFD of one name
    assert pre_order(api, table, (pasta, 1), payer_name=composed).status_code == 201

    second = pre_order(api, TableFactory(), (pasta, 1), payer_name=decomposed)

    assert (second.status_code, second.json()["code"]) == (409, "payer_name_in_use")


UNSENDABLE = ["\u200b", "홍\u200b길동", "홍길\n동", "홍\t길동", "김😀민지", "홍길동\u202e"]


@pytest.mark.parametrize("name", UNSENDABLE, ids=repr)
def test_a_payer_name_no_bank_can_send_is_400(api, table, pasta, name):
    before = db_state()

    response = pre_order(api, table, (pasta, 1), payer_name=name)

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert response.json()["errors"]["payer_name"]
    assert db_state() == before


def test_the_same_payer_name_with_another_amount_is_allowed(api, table, pasta, beer):
    assert pre_order(api, table, (pasta, 1), payer_name="김민수").status_code == 201
    response = pre_order(api, table, (pasta, 1), (beer, 1), payer_name="김민수")

    assert response.status_code == 201
    assert sorted(Order.objects.values_list("total_amount", flat=True)) == [12000, 17000]


@pytest.mark.parametrize("ending", ["paid", "expired"])
def test_the_same_payer_and_amount_is_allowed_again_once_the_first_is_paid_or_expired(
    api, staff_api, table, pasta, ending
):
    first = pre_order(api, table, (pasta, 1), payer_name="김민수")
    if ending == "paid":
        assert staff_api.post(f"/api/orders/{first.json()['order_id']}/confirm-payment/").status_code == 200
    else:
        assert pre_orders_expire(now=timezone.now() + timedelta(minutes=31)) == 1

    second = pre_order(api, table, (pasta, 1), payer_name="김민수")

    assert second.status_code == 201
    assert Order.objects.filter(status="pre_order").count() == 1


@pytest.mark.parametrize(
    ("payer_name", "stored"),
    [("  홍길동  ", "홍길동"), ("가" * 20, "가" * 20), (" " + "나" * 20 + "\t", "나" * 20), ("A", "A")],
)
def test_payer_name_is_trimmed_and_1_to_20_chars(api, table, pasta, payer_name, stored):
    response = pre_order(api, table, (pasta, 1), payer_name=payer_name)

    assert response.status_code == 201, response.json()
    assert Order.objects.get(pk=response.json()["order_id"]).payer_name == stored


@pytest.mark.parametrize("payer_name", ["", "   ", "가" * 21, None, ["홍길동"]])
def test_a_bad_payer_name_is_refused(api, table, pasta, payer_name):
    body = {"payer_name": payer_name, "total_amount": 12000, "items": lines((pasta, 1))}

    response = api.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "payer_name" in response.json()["errors"]
    assert Order.objects.count() == 0


def test_payer_name_is_required(api, table, pasta):
    body = {"total_amount": 12000, "items": lines((pasta, 1))}

    response = api.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payer_name"]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ("파스타", "items"),
        ([{"food_id": "FOOD", "quantity": 1}], "items"),
        ([{"food_id": "PASTA", "quantity": 0}], "items"),
        ([{"food_id": "PASTA", "quantity": 100}], "items"),
        ([{"food_id": "PASTA", "quantity": "2"}], "items"),
        ([{"food_id": "PASTA", "quantity": 2.5}], "items"),
        ([{"food_id": "PASTA", "quantity": 60}, {"food_id": "PASTA", "quantity": 40}], "items"),
        ([{"food_id": n, "quantity": 1} for n in range(1, 52)], "items"),
    ],
)
def test_bad_items_are_refused_like_a_direct_order(api, table, pasta, items, field):
    items = (
        items
        if isinstance(items, str)
        else [{**line, "food_id": pasta.pk if line["food_id"] == "PASTA" else line["food_id"]} for line in items]
    )
    body = {"payer_name": "홍길동", "total_amount": 12000, "items": items}

    response = api.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("total", ["12000", 12000.5, None, True, -1])
def test_a_bad_total_is_refused(api, table, pasta, total):
    body = {"payer_name": "홍길동", "total_amount": total, "items": lines((pasta, 1))}

    response = api.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")

    assert response.status_code == 400
    assert "total_amount" in response.json()["errors"]
    assert Order.objects.count() == 0


@pytest.mark.parametrize("table_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "1"])
def test_an_unknown_table_is_404(api, pasta, table_id):
    body = {"payer_name": "홍길동", "total_amount": 12000, "items": lines((pasta, 1))}

    response = api.post(f"/api/orders/pre-order/{table_id}/", body, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "table_not_found"
    assert Order.objects.count() == 0


def test_an_unknown_food_is_refused_with_its_id(api, table, pasta):
    body = {"payer_name": "홍길동", "total_amount": 12000, "items": [{"food_id": 987654, "quantity": 1}]}

    response = api.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "food_not_found"
    assert response.json()["food_ids"] == [987654]
    assert Order.objects.count() == 0


def test_not_enough_stock_is_409_sold_out_and_takes_nothing(api, table, pasta, beer):
    response = pre_order(api, table, (pasta, 1), (beer, 5))

    assert response.status_code == 409
    assert response.json()["code"] == "sold_out"
    assert response.json()["food_ids"] == [beer.pk]
    beer.refresh_from_db()
    assert beer.stock == 4
    assert Order.objects.count() == 0


def test_a_sold_out_food_is_409(api, table):
    food = FoodFactory(price=3000, sold_out=True)

    response = pre_order(api, table, (food, 1))

    assert response.status_code == 409
    assert response.json()["food_ids"] == [food.pk]
    assert Order.objects.count() == 0


# --- payment status -----------------------------------------------------------------------------------


def test_payment_status_of_a_pending_then_paid_pre_order(api, staff_api, table, pasta, settings):
    settings.BANK_NAME, settings.BANK_ACCOUNT_NO = "케이뱅크", "100-200-300"
    created = pre_order(api, table, (pasta, 1), payer_name="이영희").json()
    url = f"/api/orders/{created['order_id']}/payment-status/"

    pending = api.get(url)

    assert pending.status_code == 200
    assert pending.json() == {
        "order_id": created["order_id"],
        "order_status": "pre_order",
        "payment_completed": False,
        "payer_name": "이영희",
        "total_amount": 12000,
        "paid_at": None,
        "expires_at": created["expires_at"],
        # how to pay, as the pre-order's own answer said: another phone of the table can pay it
        "redirect_url": created["redirect_url"],
        "bank_name": "케이뱅크",
        "bank_account_no": "100-200-300",
    }

    staff_api.post(f"/api/orders/{created['order_id']}/confirm-payment/")
    paid = api.get(url).json()

    assert paid["order_status"] == "completed" and paid["payment_completed"] is True
    assert (paid["redirect_url"], paid["bank_name"], paid["bank_account_no"]) == (None, None, None)  # nothing to pay
    assert parse_datetime(paid["paid_at"]) == Order.objects.get(pk=created["order_id"]).paid_at


@pytest.mark.parametrize("order_id", ["00000000-0000-0000-0000-000000000000", "nope", "12"])
def test_payment_status_of_an_unknown_order_is_404(api, order_id):
    response = api.get(f"/api/orders/{order_id}/payment-status/")

    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"


def _food_json(food: Food) -> dict:
    return {
        "id": food.pk,
        "name": food.name,
        "price": food.price,
        "category": food.category,
        "description": food.description,
        "image": food.image,
        "sold_out": food.sold_out,
        "stock": food.stock,
        "station": food.station,
    }


def test_a_wrong_total_is_amount_mismatch_even_when_that_name_and_amount_are_pending(api, table):
    cheap, dear = FoodFactory(price=5000), FoodFactory(price=12000)
    assert pre_order(api, table, (dear, 1), payer_name="홍길동").status_code == 201

    response = pre_order(api, table, (cheap, 1), payer_name="홍길동", total=12000)

    assert response.status_code == 400
    assert response.json()["code"] == "amount_mismatch" and response.json()["expected"] == 5000
    assert Order.objects.count() == 1


def test_the_answer_names_the_bank_and_account_in_words(api, table, beer, settings):
    settings.BANK_NAME, settings.BANK_ACCOUNT_NO = "케이뱅크", "100-200-300"
    body = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 5000, "items": [{"food_id": beer.pk, "quantity": 1}]},
        format="json",
    ).json()
    assert (body["bank_name"], body["bank_account_no"]) == ("케이뱅크", "100-200-300")


def test_in_production_pre_orders_are_refused_without_an_account(api, table, beer, settings):
    settings.DEBUG, settings.BANK_ACCOUNT_NO = False, ""
    before = db_state()
    response = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 5000, "items": [{"food_id": beer.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 503
    assert response.json()["code"] == "bank_account_not_configured" and response.json()["detail"]
    assert db_state() == before


def test_with_debug_on_pre_orders_go_ahead_without_an_account(api, table, beer, settings):
    settings.DEBUG, settings.BANK_ACCOUNT_NO = True, ""
    response = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 5000, "items": [{"food_id": beer.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 201
    assert "accountNo=&" in response.json()["redirect_url"]
