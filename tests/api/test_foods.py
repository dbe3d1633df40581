"""GET /api/foods/, GET /api/foods/{id}/ and the staff PATCH (CONTRACT.md sections 3 and 4)."""

import pytest

from ordering.models import Category, Food
from tests.api.factories import OrderFactory
from tests.api.helpers import assert_error
from tests.factories import FoodFactory

pytestmark = pytest.mark.django_db


def food_json(food: Food, **changes) -> dict:
    """The Food resource; `station` by the contract's default for a food created without one: drinks are
    poured at the bar, the rest cooked in the kitchen (pass station= for a food given one)."""
    body = {
        "id": food.pk,
        "name": food.name,
        "price": food.price,
        "category": food.category,
        "description": food.description,
        "image": food.image,
        "sold_out": food.sold_out,
        "stock": food.stock,
        "station": "bar" if food.category == Category.DRINKS else "kitchen",
    }
    return {**body, **changes}


# --- list -------------------------------------------------------------------------------------------


def test_menu_lists_every_food_drinks_then_menu_in_display_order(api):
    second = FoodFactory(name="김치전", price=12000, display_order=2)
    first = FoodFactory(name="파전", price=15000, display_order=1, stock=3)
    beer = FoodFactory(name="맥주", price=5000, category=Category.DRINKS, sold_out=True)

    response = api.get("/api/foods/")

    assert response.status_code == 200
    assert response.json() == [food_json(beer), food_json(first), food_json(second)]


@pytest.mark.parametrize("category", ["menu", "drinks"])
def test_menu_filtered_by_category(api, category):
    dish = FoodFactory(category=Category.MENU)
    drink = FoodFactory(category=Category.DRINKS)

    response = api.get("/api/foods/", {"category": category})

    assert response.status_code == 200
    assert response.json() == [food_json(dish if category == "menu" else drink)]


@pytest.mark.parametrize("category", ["food", "MENU", "drink", "1", "menu,drinks", ""])
def test_menu_refuses_an_unknown_category(api, food, category):
    response = api.get("/api/foods/", {"category": category})

    body = assert_error(response, 400, "invalid_category")
    assert set(body) == {"code", "detail"}


# --- detail -----------------------------------------------------------------------------------------


def test_food_detail(api, counted_food):
    response = api.get(f"/api/foods/{counted_food.pk}/")

    assert response.status_code == 200
    assert response.json() == food_json(counted_food, stock=5, price=8000)


@pytest.mark.parametrize("food_id", ["999999", "0", "-1", "abc", "1.5", "1e3", "%00", "99999999999999999999999999"])
def test_food_detail_unknown_or_malformed_id_is_404(api, food, food_id):
    response = api.get(f"/api/foods/{food_id}/")

    assert_error(response, 404, "food_not_found")


# --- staff PATCH ------------------------------------------------------------------------------------


def test_staff_marks_a_food_sold_out(staff_api, food, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.patch(f"/api/foods/{food.pk}/", {"sold_out": True}, format="json")

    assert response.status_code == 200
    assert response.json() == food_json(food, sold_out=True)
    food.refresh_from_db()
    assert food.sold_out is True
    assert [(event["type"], event["food"]) for event in events.drain()] == [
        ("food.updated", food_json(food, sold_out=True))
    ]


def test_staff_sells_a_sold_out_uncounted_food_again(staff_api):
    food = FoodFactory(sold_out=True, stock=None)

    response = staff_api.patch(f"/api/foods/{food.pk}/", {"sold_out": False}, format="json")

    assert response.status_code == 200
    assert response.json() == food_json(food, sold_out=False)
    food.refresh_from_db()
    assert food.sold_out is False


def test_setting_stock_to_zero_sets_sold_out(staff_api, counted_food):
    response = staff_api.patch(f"/api/foods/{counted_food.pk}/", {"stock": 0}, format="json")

    assert response.status_code == 200
    assert response.json() == food_json(counted_food, stock=0, sold_out=True)
    counted_food.refresh_from_db()
    assert (counted_food.stock, counted_food.sold_out) == (0, True)


def test_stock_can_be_set_and_uncounted(staff_api, counted_food):
    response = staff_api.patch(f"/api/foods/{counted_food.pk}/", {"stock": 12}, format="json")
    assert response.status_code == 200
    assert response.json()["stock"] == 12

    response = staff_api.patch(f"/api/foods/{counted_food.pk}/", {"stock": None}, format="json")
    assert response.status_code == 200
    assert response.json() == food_json(counted_food, stock=None, sold_out=False)
    counted_food.refresh_from_db()
    assert counted_food.stock is None


def test_restocking_from_zero_clears_sold_out(staff_api):
    food = FoodFactory(stock=0, sold_out=True)

    response = staff_api.patch(f"/api/foods/{food.pk}/", {"stock": 10}, format="json")

    assert response.status_code == 200
    assert response.json() == food_json(food, stock=10, sold_out=False)
    food.refresh_from_db()
    assert (food.stock, food.sold_out) == (10, False)


def test_restocking_a_food_staff_switched_off_keeps_it_sold_out(staff_api):
    food = FoodFactory(stock=3, sold_out=True)

    response = staff_api.patch(f"/api/foods/{food.pk}/", {"stock": 10}, format="json")

    assert response.status_code == 200
    assert response.json() == food_json(food, stock=10, sold_out=True)


@pytest.mark.parametrize("body", [{"sold_out": False}, {"sold_out": False, "stock": 0}])
def test_selling_again_with_stock_zero_is_409_out_of_stock(
    staff_api, snapshot, events, django_capture_on_commit_callbacks, body
):
    food = FoodFactory(stock=0, sold_out=True)
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.patch(f"/api/foods/{food.pk}/", body, format="json")

    assert_error(response, 409, "out_of_stock")
    assert snapshot() == before
    assert events.drain() == []


def test_price_change_applies_to_new_orders_only(staff_api, api, table, food):
    first = api.post(
        "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 2}]}, format="json"
    )
    assert first.status_code == 201

    response = staff_api.patch(f"/api/foods/{food.pk}/", {"price": 15000}, format="json")
    assert response.status_code == 200
    assert response.json() == food_json(food, price=15000)

    second = api.post(
        "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}, format="json"
    )
    assert second.status_code == 201
    assert second.json()["items"] == [
        {
            "food": {"id": food.pk, "name": food.name, "price": 15000},
            "quantity": 1,
            "total_price": 15000,
            "station": "kitchen",
            "kitchen_status": "queued",
        }
    ]

    tab = api.get(f"/api/tables/{table.pk}/orders/").json()
    assert [(order["total_amount"], order["items"]) for order in tab["orders"]] == [
        (
            15000,
            [
                {
                    "food": {"id": food.pk, "name": food.name, "price": 15000},
                    "quantity": 1,
                    "total_price": 15000,
                    "station": "kitchen",
                    "kitchen_status": "queued",
                }
            ],
        ),
        (
            24000,
            [
                {
                    "food": {"id": food.pk, "name": food.name, "price": 12000},
                    "quantity": 2,
                    "total_price": 24000,
                    "station": "kitchen",
                    "kitchen_status": "queued",
                }
            ],
        ),
    ]
    assert tab["total_spent"] == 39000
    history = staff_api.get("/api/orders/history/").json()
    assert [order["items"][0]["food"]["price"] for order in history["orders"]] == [15000, 12000]


def test_price_change_leaves_frozen_order_rows_alone(staff_api, food):
    order = OrderFactory(lines=[(food, 3)])

    response = staff_api.patch(f"/api/foods/{food.pk}/", {"price": 100}, format="json")

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.total_amount == 36000
    assert [(item.unit_price, item.total_price) for item in order.items.all()] == [(12000, 36000)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "새 이름"},
        {"price": -1},
        {"price": "1000"},
        {"price": 1.5},
        {"price": None},
        {"price": 10_000_001},
        {"stock": -1},
        {"stock": "3"},
        {"stock": 2.0},
        {"stock": True},
        {"sold_out": "true"},
        {"sold_out": 1},
        {"sold_out": None},
    ],
)
def test_patch_with_bad_input_is_400_and_changes_nothing(
    staff_api, counted_food, snapshot, events, django_capture_on_commit_callbacks, body
):
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_api.patch(f"/api/foods/{counted_food.pk}/", body, format="json")

    body = assert_error(response, 400, "invalid")
    assert isinstance(body["errors"], dict) and body["errors"]
    assert snapshot() == before
    assert events.drain() == []


@pytest.mark.parametrize("food_id", ["999999", "abc"])
def test_patch_unknown_food_is_404(staff_api, food, snapshot, food_id):
    before = snapshot()

    response = staff_api.patch(f"/api/foods/{food_id}/", {"sold_out": True}, format="json")

    assert_error(response, 404, "food_not_found")
    assert snapshot() == before


def test_patch_refuses_a_json_body_it_cannot_read(staff_api, food, snapshot):
    before = snapshot()

    response = staff_api.patch(f"/api/foods/{food.pk}/", '{"price": ', content_type="application/json")

    assert_error(response, 400, "parse_error")
    assert snapshot() == before


def test_a_food_id_that_only_int_would_read_is_404(api, food):
    """Only ASCII digits name a food: int() would read a full-width digit or an underscore too."""
    full_width = str(food.pk).translate({ord(d): chr(0xFF10 + int(d)) for d in "0123456789"})
    for food_id in [full_width, f"0_{food.pk}", f"+{food.pk}", f" {food.pk}"]:
        response = api.get(f"/api/foods/{food_id}/")

        assert_error(response, 404, "food_not_found")
    assert api.get(f"/api/foods/{food.pk}/").status_code == 200
