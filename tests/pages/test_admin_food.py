"""The admin's food form: names and prices, never the stock that orders move meanwhile."""

import pytest
from django.test import Client

from ordering.models import Food
from tests.factories import FoodFactory, StaffFactory

pytestmark = pytest.mark.django_db


def test_an_admin_edit_keeps_the_rows_stock_and_raises_its_version_once():
    food = FoodFactory(name="김치전", price=12000, stock=5)
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))
    form = {
        "name": "해물김치전",
        "price": "13000",
        "category": food.category,
        "description": "",
        "image": "",
        "display_order": "0",
        "station": food.station,
    }
    Food.objects.filter(pk=food.pk).update(stock=3, version=food.version + 1)  # orders took two since the form opened

    response = client.post(f"/admin/ordering/food/{food.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    saved = Food.objects.get(pk=food.pk)
    assert (saved.name, saved.price, saved.stock, saved.version) == ("해물김치전", 13000, 3, food.version + 2)


def test_a_new_dish_in_the_admin_is_offered_a_place_after_the_menu():
    FoodFactory(display_order=7)
    client = Client()
    client.force_login(StaffFactory(is_superuser=True))

    html = client.get("/admin/ordering/food/add/").content.decode()

    assert 'name="display_order" value="8"' in html


def test_an_admin_edit_and_a_new_dish_are_attributed_to_the_staff_member():
    from core.models import StaffAction

    food = FoodFactory(name="김치전", price=12000)
    owner = StaffFactory(is_superuser=True, username="사장")
    client = Client()
    client.force_login(owner)
    form = {"price": "13000", "category": "menu", "description": "", "image": "", "display_order": "0"}

    changed = client.post(f"/admin/ordering/food/{food.pk}/change/", {**form, "name": "김치전", "station": "kitchen"})
    added = client.post("/admin/ordering/food/add/", {**form, "name": "감자전", "station": "kitchen"})

    assert (changed.status_code, added.status_code) == (302, 302)
    new = Food.objects.get(name="감자전")
    actions = list(StaffAction.objects.order_by("pk").values_list("user__username", "action", "target", "detail"))
    assert actions == [
        ("사장", "food_save", "김치전", {"food_id": food.pk}),
        ("사장", "food_create", "감자전", {"food_id": new.pk}),
    ]
