import pytest

pytestmark = pytest.mark.django_db


def test_menu_lists_foods(api, food):
    response = api.get("/api/foods/")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": food.pk,
            "name": food.name,
            "price": 12000,
            "category": "menu",
            "description": "",
            "image": "",
            "sold_out": False,
            "stock": None,
            "station": "kitchen",
        }
    ]


def test_direct_order_takes_stock_and_freezes_price(api, table, counted_food):
    response = api.post(
        "/api/orders/",
        {
            "table_id": str(table.pk),
            "items": [
                {"food_id": counted_food.pk, "quantity": 2},
                {"food_id": counted_food.pk, "quantity": 3},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "completed"
    assert body["items"] == [
        {
            "food": {"id": counted_food.pk, "name": counted_food.name, "price": 8000},
            "quantity": 5,
            "total_price": 40000,
            "station": "kitchen",
            "kitchen_status": "queued",
        }
    ]
    counted_food.refresh_from_db()
    assert counted_food.stock == 0 and counted_food.sold_out is True
