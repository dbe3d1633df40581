"""POST /api/orders/: a direct order, and every way to get it wrong (CONTRACT.md section 4, order input rules)."""

import json
import uuid

import pytest

from ordering.models import Order, OrderItem, OrderStatus
from tests.api.helpers import assert_error, iso, order_json
from tests.factories import FoodFactory

pytestmark = pytest.mark.django_db

URL = "/api/orders/"


def order_body(table, *lines) -> dict:
    return {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": qty} for food, qty in lines]}


# --- success ----------------------------------------------------------------------------------------


def test_direct_order_is_completed_at_once(api, table, food, counted_food):
    response = api.post(URL, order_body(table, (food, 2), (counted_food, 1)), format="json")

    assert response.status_code == 201
    order = Order.objects.get()
    body = response.json()
    assert body == order_json(order)
    assert body["status"] == "completed"
    assert body["kitchen_status"] == "queued"
    assert body["payer_name"] == ""
    assert body["table_name"] == table.name
    assert body["total_amount"] == 2 * 12000 + 8000
    assert body["refunded_amount"] == 0
    assert body["items"] == [
        {
            "food": {"id": food.pk, "name": food.name, "price": 12000},
            "quantity": 2,
            "total_price": 24000,
            "station": "kitchen",
            "kitchen_status": "queued",
        },
        {
            "food": {"id": counted_food.pk, "name": counted_food.name, "price": 8000},
            "quantity": 1,
            "total_price": 8000,
            "station": "kitchen",
            "kitchen_status": "queued",
        },
    ]
    assert body["refunds"] == []
    assert body["paid_at"] == iso(order.paid_at) and body["paid_at"].endswith("+09:00")
    assert body["paid_at"] == body["order_date"]  # a direct order is paid as it is placed
    assert body["expires_at"] is None
    assert len(body["order_number"]) <= 22
    counted_food.refresh_from_db()
    assert (counted_food.stock, counted_food.sold_out) == (4, False)


def test_order_numbers_are_unique(api, table, food):
    numbers = {api.post(URL, order_body(table, (food, 1)), format="json").json()["order_number"] for _ in range(10)}

    assert len(numbers) == 10


def test_order_of_the_last_units_sells_the_food_out(api, table, counted_food):
    response = api.post(URL, order_body(table, (counted_food, 5)), format="json")

    assert response.status_code == 201
    counted_food.refresh_from_db()
    assert (counted_food.stock, counted_food.sold_out) == (0, True)
    assert api.get(f"/api/foods/{counted_food.pk}/").json()["sold_out"] is True


def test_order_announces_itself_to_the_kitchen_and_the_menu(
    api, table, counted_food, events, django_capture_on_commit_callbacks
):
    events.subscribe(f"table.{table.pk.hex}")

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, order_body(table, (counted_food, 2)), format="json")

    assert response.status_code == 201
    received = events.drain()
    assert sorted(event["type"] for event in received) == ["food.updated", "order.created", "order.created"]
    assert {event["order"]["id"] for event in received if event["type"] == "order.created"} == {response.json()["id"]}
    food_event = next(event for event in received if event["type"] == "food.updated")
    assert (food_event["food"]["id"], food_event["food"]["stock"]) == (counted_food.pk, 3)


def test_the_answer_and_the_event_are_the_order_as_it_is_read_back(
    api, table, food, counted_food, events, django_capture_on_commit_callbacks
):
    """They are built from what was written, not read back: they must not differ from a later read."""
    events.subscribe(f"table.{table.pk.hex}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, order_body(table, (counted_food, 2), (food, 1)), format="json")

    read_back = api.get(f"/api/tables/{table.pk}/orders/").json()["orders"][0]
    assert response.json() == read_back
    announced = [event["order"] for event in events.drain() if event["type"] == "order.created"]
    assert announced and all(order == read_back for order in announced)


def test_repeated_food_lines_are_merged(api, table, food):
    response = api.post(URL, order_body(table, (food, 2), (food, 3)), format="json")

    assert response.status_code == 201
    assert response.json()["items"] == [
        {
            "food": {"id": food.pk, "name": food.name, "price": 12000},
            "quantity": 5,
            "total_price": 60000,
            "station": "kitchen",
            "kitchen_status": "queued",
        }
    ]
    assert OrderItem.objects.get().quantity == 5


def test_merged_lines_may_reach_99(api, table, food):
    response = api.post(URL, order_body(table, (food, 50), (food, 49)), format="json")

    assert response.status_code == 201
    assert response.json()["items"][0]["quantity"] == 99


def test_fifty_lines_are_accepted(api, table):
    foods = FoodFactory.create_batch(50, price=1000)

    response = api.post(URL, order_body(table, *[(food, 1) for food in foods]), format="json")

    assert response.status_code == 201
    assert len(response.json()["items"]) == 50
    assert response.json()["total_amount"] == 50000


# --- refused: bad input -----------------------------------------------------------------------------

BAD_QUANTITIES = [0, -1, 100, "2", 2.5, 2.0, None, True, False, [2], {"n": 2}, 10**30]


@pytest.mark.parametrize("quantity", BAD_QUANTITIES, ids=repr)
def test_bad_quantity_is_400_invalid(api, table, counted_food, snapshot, quantity):
    before = snapshot()
    body = {"table_id": str(table.pk), "items": [{"food_id": counted_food.pk, "quantity": quantity}]}

    response = api.post(URL, body, format="json")

    body = assert_error(response, 400, "invalid")
    # the contract's {"<field>": ["..."]}: the first line's quantity, named in its message
    assert list(body["errors"]) == ["items"]
    assert body["errors"]["items"] and all(m.startswith("0.quantity: ") for m in body["errors"]["items"])
    assert snapshot() == before


@pytest.mark.parametrize(
    "items",
    [[None], [{"food_id": 1, "quantity": 0}, {"quantity": 1}], [[]], "x", [{"food_id": {"a": [1]}, "quantity": [[1]]}]],
    ids=repr,
)
def test_validation_errors_are_the_contracts_flat_lists_of_messages(api, table, items):
    body = assert_error(api.post(URL, {"table_id": str(table.pk), "items": items}, format="json"), 400, "invalid")

    assert body["errors"]
    for field, messages in body["errors"].items():
        assert isinstance(messages, list) and messages, field
        assert all(isinstance(message, str) and message for message in messages), messages


@pytest.mark.parametrize("food_id", [0, -1, "1", 1.0, None, True, 2**63], ids=repr)
def test_bad_food_id_is_400_invalid(api, table, food, snapshot, food_id):
    before = snapshot()
    body = {"table_id": str(table.pk), "items": [{"food_id": food_id, "quantity": 1}]}

    response = api.post(URL, body, format="json")

    body = assert_error(response, 400, "invalid")
    assert body["errors"]["items"] and all(m.startswith("0.food_id: ") for m in body["errors"]["items"])
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param({}, {"table_id", "items"}, id="empty object"),
        pytest.param({"table_id": "TABLE"}, {"items"}, id="no items"),
        pytest.param({"items": [{"food_id": "FOOD", "quantity": 1}]}, {"table_id"}, id="no table_id"),
        pytest.param({"table_id": "TABLE", "items": []}, {"items"}, id="empty items"),
        pytest.param(
            {"table_id": "TABLE", "items": {"food_id": "FOOD", "quantity": 1}}, {"items"}, id="items not a list"
        ),
        pytest.param({"table_id": "TABLE", "items": "FOOD"}, {"items"}, id="items a string"),
        pytest.param({"table_id": "TABLE", "items": None}, {"items"}, id="items null"),
        pytest.param({"table_id": "TABLE", "items": ["FOOD"]}, {"items"}, id="line not an object"),
        pytest.param({"table_id": "TABLE", "items": [{"food_id": "FOOD"}]}, {"items"}, id="line without quantity"),
        pytest.param({"table_id": "TABLE", "items": [{"quantity": 1}]}, {"items"}, id="line without food_id"),
        pytest.param(
            {"table_id": "not-a-uuid", "items": [{"food_id": "FOOD", "quantity": 1}]},
            {"table_id"},
            id="table_id malformed",
        ),
        pytest.param(
            {"table_id": "TABLE0", "items": [{"food_id": "FOOD", "quantity": 1}]}, {"table_id"}, id="table_id too long"
        ),
        pytest.param(
            {"table_id": 5, "items": [{"food_id": "FOOD", "quantity": 1}]}, {"table_id"}, id="table_id a number"
        ),
        pytest.param(
            {"table_id": True, "items": [{"food_id": "FOOD", "quantity": 1}]}, {"table_id"}, id="table_id true"
        ),
        pytest.param(
            {"table_id": None, "items": [{"food_id": "FOOD", "quantity": 1}]}, {"table_id"}, id="table_id null"
        ),
        pytest.param(
            {"table_id": ["TABLE"], "items": [{"food_id": "FOOD", "quantity": 1}]}, {"table_id"}, id="table_id a list"
        ),
        pytest.param([{"food_id": "FOOD", "quantity": 1}], {"non_field_errors"}, id="body a list"),
        pytest.param("TABLE", {"non_field_errors"}, id="body a string"),
        pytest.param(5, {"non_field_errors"}, id="body a number"),
    ],
)
def test_malformed_order_is_400_invalid_and_writes_nothing(api, table, counted_food, snapshot, body, fields):
    raw = json.dumps(body).replace("TABLE", str(table.pk)).replace('"FOOD"', str(counted_food.pk))
    before = snapshot()

    response = api.post(URL, raw, content_type="application/json")

    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) == fields
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw", ['{"table_id": ', "{'table_id': 1}", '{"items": [1,]}', "NaN", '{"a": Infinity}', "\xff"]
)
def test_unreadable_json_is_400_parse_error(api, table, counted_food, snapshot, raw):
    before = snapshot()

    response = api.post(URL, raw.encode("latin-1"), content_type="application/json")

    body = assert_error(response, 400, "parse_error")
    assert set(body) == {"code", "detail"}
    assert snapshot() == before


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/html"]
)
def test_a_body_that_is_not_json_is_415(api, table, counted_food, snapshot, content_type):
    before = snapshot()
    payload = json.dumps(order_body(table, (counted_food, 1)))

    response = api.post(URL, payload, content_type=content_type)

    assert_error(response, 415, "unsupported_media_type")
    assert snapshot() == before


def test_fifty_one_lines_are_refused(api, table, snapshot):
    foods = FoodFactory.create_batch(51)
    before = snapshot()

    response = api.post(URL, order_body(table, *[(food, 1) for food in foods]), format="json")

    body = assert_error(response, 400, "invalid")
    assert list(body["errors"]) == ["items"]
    assert snapshot() == before


def test_merged_lines_over_99_are_refused(api, table, food, snapshot):
    before = snapshot()

    response = api.post(URL, order_body(table, (food, 50), (food, 50)), format="json")

    body = assert_error(response, 400, "invalid")
    assert list(body["errors"]) == ["items"]
    assert snapshot() == before


def exact_size_body(table, food, size: int) -> bytes:
    """A valid order padded with an ignored field to exactly `size` bytes of JSON."""
    body = order_body(table, (food, 1))
    body["note"] = ""
    raw = json.dumps(body, separators=(",", ":")).encode()
    body["note"] = "x" * (size - len(raw))
    raw = json.dumps(body, separators=(",", ":")).encode()
    assert len(raw) == size
    return raw


def test_a_body_over_64_kib_is_413(asgi_post, table, counted_food, snapshot):
    before = snapshot()

    status, _, raw = asgi_post(URL, exact_size_body(table, counted_food, 64 * 1024 + 1))

    body = json.loads(raw)
    assert status == 413
    assert body["code"] == "payload_too_large" and set(body) == {"code", "detail"}
    assert snapshot() == before


def test_a_body_of_exactly_64_kib_is_read(api, table, counted_food):
    response = api.post(URL, exact_size_body(table, counted_food, 64 * 1024), content_type="application/json")

    assert response.status_code == 201


# --- refused: unknown things ------------------------------------------------------------------------


def test_unknown_table_is_404_table_not_found(api, counted_food, snapshot):
    before = snapshot()
    body = {"table_id": str(uuid.uuid4()), "items": [{"food_id": counted_food.pk, "quantity": 1}]}

    response = api.post(URL, body, format="json")

    body = assert_error(response, 404, "table_not_found")
    assert set(body) == {"code", "detail"}
    assert snapshot() == before


def test_unknown_foods_are_400_food_not_found_with_their_ids(api, table, counted_food, snapshot):
    before = snapshot()
    body = order_body(table, (counted_food, 1))
    body["items"] += [{"food_id": 999_999, "quantity": 1}, {"food_id": 888_888, "quantity": 2}]

    response = api.post(URL, body, format="json")

    body = assert_error(response, 400, "food_not_found")
    assert body["food_ids"] == [888_888, 999_999]
    assert snapshot() == before


def test_unknown_table_and_unknown_food_is_404_for_the_table(api, snapshot):
    before = snapshot()
    body = {"table_id": str(uuid.uuid4()), "items": [{"food_id": 999_999, "quantity": 1}]}

    response = api.post(URL, body, format="json")

    assert_error(response, 404, "table_not_found")
    assert snapshot() == before


# --- refused: sold out ------------------------------------------------------------------------------


def test_a_mixed_order_with_one_sold_out_line_writes_nothing(
    api, table, food, counted_food, snapshot, events, django_capture_on_commit_callbacks
):
    gone = FoodFactory(sold_out=True)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, order_body(table, (counted_food, 2), (gone, 1), (food, 1)), format="json")

    body = assert_error(response, 409, "sold_out")
    assert body["food_ids"] == [gone.pk]
    assert snapshot() == before
    counted_food.refresh_from_db()
    assert (counted_food.stock, counted_food.sold_out) == (5, False)
    assert events.drain() == []


def test_more_than_the_stock_left_is_409_sold_out(api, table, food, counted_food, snapshot):
    before = snapshot()

    response = api.post(URL, order_body(table, (food, 1), (counted_food, 6)), format="json")

    body = assert_error(response, 409, "sold_out")
    assert body["food_ids"] == [counted_food.pk]
    assert snapshot() == before


def test_every_unavailable_food_is_named(api, table, counted_food, snapshot):
    gone = FoodFactory(sold_out=True)
    empty = FoodFactory(stock=0, sold_out=True)
    before = snapshot()

    response = api.post(URL, order_body(table, (empty, 1), (counted_food, 9), (gone, 1)), format="json")

    body = assert_error(response, 409, "sold_out")
    assert body["food_ids"] == sorted([counted_food.pk, gone.pk, empty.pk])
    assert snapshot() == before


def test_after_a_refused_order_the_same_stock_can_still_be_bought(api, table, counted_food):
    gone = FoodFactory(sold_out=True)
    refused = api.post(URL, order_body(table, (counted_food, 5), (gone, 1)), format="json")
    assert refused.status_code == 409

    response = api.post(URL, order_body(table, (counted_food, 5)), format="json")

    assert response.status_code == 201
    assert Order.objects.filter(status=OrderStatus.COMPLETED).count() == 1
