"""Two phones of one table writing the same cart version at the same instant (real threads; on MariaDB the
cart row is locked): one wins, the other gets 409 cart_changed with the winner's cart."""

import pytest
from rest_framework.test import APIClient

from ordering.models import Cart
from tests.concurrency.threads import race
from tests.factories import FoodFactory, TableFactory

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("existing", [False, True], ids=["first write creates the cart", "cart already there"])
def test_two_phones_writing_one_version_one_wins_the_other_sees_its_cart(existing):
    table, food = TableFactory(), FoodFactory()
    if existing:
        Cart.objects.create(table=table, version=3)
    version = 3 if existing else 0

    def phone(i):
        response = APIClient().put(
            f"/api/tables/{table.pk}/cart/",
            {"items": [{"food_id": food.pk, "quantity": i + 1}], "version": version},
            format="json",
        )
        return response.status_code, response.json()

    results = race(2, phone)

    assert sorted(status for status, _ in results) == [200, 409], results
    won = next(body for status, body in results if status == 200)
    lost = next(body for status, body in results if status == 409)
    assert lost["code"] == "cart_changed" and lost["cart"] == won
    assert Cart.objects.get(table=table).version == version + 1
