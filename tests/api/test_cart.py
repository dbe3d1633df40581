"""The table's shared cart (CONTRACT.md section 10): GET/PUT with versions, cart.updated to the table, emptied
by an order placed from it and by a reset or close."""

import pytest

from ordering.events import table_group
from ordering.models import Cart, Order
from tests.api.helpers import assert_error
from tests.api.support import IN_MEMORY_LAYER, EventRecorder
from tests.factories import FoodFactory

pytestmark = pytest.mark.django_db


def put(api, table, items, version):
    return api.put(
        f"/api/tables/{table.pk}/cart/",
        {"items": [{"food_id": f.pk, "quantity": q} for f, q in items], "version": version},
        format="json",
    )


def test_a_table_without_a_cart_has_an_empty_one(api, table):
    assert api.get(f"/api/tables/{table.pk}/cart/").json() == {"items": [], "version": 0, "updated_at": None}


def test_a_phone_fills_the_cart_and_the_table_is_told(api, table, food, settings, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    tab = EventRecorder().subscribe(table_group(table.pk))
    beer = FoodFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = put(api, table, [(food, 2), (beer, 1), (food, 1)], version=0)

    assert response.status_code == 200
    cart = response.json()
    assert cart["items"] == [{"food_id": food.pk, "quantity": 3}, {"food_id": beer.pk, "quantity": 1}]
    assert cart["version"] == 1 and cart["updated_at"]
    assert api.get(f"/api/tables/{table.pk}/cart/").json() == cart
    events = tab.drain()
    assert [e["type"] for e in events] == ["cart.updated"] and events[0]["cart"] == cart and events[0]["seq"]


def test_a_stale_version_is_409_with_the_current_cart(api, table, food):
    first = put(api, table, [(food, 1)], version=0).json()

    stale = put(api, table, [(food, 5)], version=0)

    body = assert_error(stale, 409, "cart_changed")
    assert body["cart"] == first
    assert Cart.objects.get(table=table).items == [{"food_id": food.pk, "quantity": 1}]


def test_a_cart_may_be_emptied(api, table, food):
    put(api, table, [(food, 1)], version=0)
    assert put(api, table, [], version=1).json()["items"] == []


def test_a_sold_out_food_stays_in_the_cart_and_is_refused_when_ordered(api, table):
    gone = FoodFactory(sold_out=True)
    cart = put(api, table, [(gone, 1)], version=0).json()
    assert cart["items"] == [{"food_id": gone.pk, "quantity": 1}]

    order = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": cart["items"], "cart_version": cart["version"]},
        format="json",
    )
    assert_error(order, 409, "sold_out")
    assert api.get(f"/api/tables/{table.pk}/cart/").json() == cart  # nothing ordered, nothing emptied


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"food_id": 1, "quantity": 0}], "version": 0}, "items"),
        ({"items": [{"food_id": 1, "quantity": 100}], "version": 0}, "items"),
        ({"items": [{"food_id": 1, "quantity": 1}] * 51, "version": 0}, "items"),
        ({"items": "x", "version": 0}, "items"),
        ({"items": []}, "version"),
        ({"items": [], "version": "1"}, "version"),
        ({"items": [], "version": -1}, "version"),
    ],
)
def test_cart_items_obey_the_order_input_rules(api, table, body, field):
    response = api.put(f"/api/tables/{table.pk}/cart/", body, format="json")
    assert field in assert_error(response, 400, "invalid")["errors"]


def test_an_unknown_food_is_refused(api, table):
    body = assert_error(
        api.put(
            f"/api/tables/{table.pk}/cart/", {"items": [{"food_id": 99999, "quantity": 1}], "version": 0}, format="json"
        ),
        400,
        "food_not_found",
    )
    assert body["food_ids"] == [99999]


@pytest.mark.parametrize("table_id", ["00000000-0000-0000-0000-000000000000", "nope"])
def test_the_cart_of_an_unknown_table_is_404(api, table_id):
    assert_error(api.get(f"/api/tables/{table_id}/cart/"), 404, "table_not_found")
    assert_error(
        api.put(f"/api/tables/{table_id}/cart/", {"items": [], "version": 0}, format="json"), 404, "table_not_found"
    )


def test_an_order_placed_from_the_cart_empties_it(api, table, food, settings, django_capture_on_commit_callbacks):
    cart = put(api, table, [(food, 2)], version=0).json()
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    tab = EventRecorder().subscribe(table_group(table.pk))

    with django_capture_on_commit_callbacks(execute=True):
        order = api.post(
            "/api/orders/",
            {"table_id": str(table.pk), "items": cart["items"], "cart_version": cart["version"]},
            format="json",
        )

    assert order.status_code == 201
    emptied = api.get(f"/api/tables/{table.pk}/cart/").json()
    assert emptied["items"] == [] and emptied["version"] == 2
    assert [e["type"] for e in tab.drain()] == ["order.created", "cart.updated"]


def test_a_pre_order_placed_from_the_cart_empties_it(api, table, food):
    cart = put(api, table, [(food, 1)], version=0).json()
    response = api.post(
        f"/api/orders/pre-order/{table.pk}/",
        {"payer_name": "홍길동", "total_amount": 12000, "items": cart["items"], "cart_version": 1},
        format="json",
    )
    assert response.status_code == 201
    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == []


def test_an_order_from_an_older_cart_takes_its_dishes_out_and_keeps_the_newer_ones(
    api, table, food, settings, django_capture_on_commit_callbacks
):
    """Phone A orders the cart as it saw it; phone B had just added a beer and a third pancake. The beer and the
    third pancake stay for the table; the two pancakes on their way are not left to be ordered again."""
    beer = FoodFactory()
    put(api, table, [(food, 2)], version=0)
    put(api, table, [(food, 3), (beer, 1)], version=1)  # phone B
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    tab = EventRecorder().subscribe(table_group(table.pk))

    with django_capture_on_commit_callbacks(execute=True):
        placed = api.post(
            "/api/orders/",
            {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 2}], "cart_version": 1},
            format="json",
        )

    assert placed.status_code == 201
    left = api.get(f"/api/tables/{table.pk}/cart/").json()
    assert left["items"] == [{"food_id": food.pk, "quantity": 1}, {"food_id": beer.pk, "quantity": 1}]
    assert left["version"] == 3
    assert [(e["type"], e.get("cart")) for e in tab.drain()][-1] == ("cart.updated", left)


def test_phone_b_ordering_the_cart_it_saw_before_phone_as_order_took_from_it_is_409(api, table, food):
    """B's cart (version 2) still held the pancakes A ordered from version 1: ordering it would send them twice."""
    beer = FoodFactory()
    put(api, table, [(food, 2)], version=0)
    put(api, table, [(food, 2), (beer, 3)], version=1)
    lines = [{"food_id": food.pk, "quantity": 2}]
    assert (
        api.post(
            "/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 1}, format="json"
        ).status_code
        == 201
    )

    again = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [*lines, {"food_id": beer.pk, "quantity": 3}], "cart_version": 2},
        format="json",
    )

    body = assert_error(again, 409, "cart_changed")
    assert body["cart"]["items"] == [{"food_id": beer.pk, "quantity": 3}]
    assert Order.objects.count() == 1


@pytest.mark.parametrize("second", ["order", "pre_order"])
def test_an_order_from_a_cart_another_order_emptied_since_is_409_and_places_nothing(api, table, food, second):
    """Two phones of a table: one orders the cart; the other, whose socket had not heard, orders what it still
    shows. The dishes are on their way already: the second is refused with the cart as it is now."""
    put(api, table, [(food, 2)], version=0)
    lines = [{"food_id": food.pk, "quantity": 2}]
    first = api.post("/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 1}, format="json")
    assert first.status_code == 201

    if second == "order":
        again = api.post("/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 1}, format="json")
    else:
        again = api.post(
            f"/api/orders/pre-order/{table.pk}/",
            {"payer_name": "홍길동", "total_amount": 24000, "items": lines, "cart_version": 1},
            format="json",
        )

    body = assert_error(again, 409, "cart_changed")
    assert body["cart"] == api.get(f"/api/tables/{table.pk}/cart/").json()
    assert (body["cart"]["items"], body["cart"]["version"]) == ([], 2)
    assert Order.objects.count() == 1


def test_an_order_from_a_cart_edited_since_an_earlier_order_is_placed(api, table, food):
    """Only an order that took from the cart makes an older version stale for ordering: later edits do not."""
    put(api, table, [(food, 1)], version=0)
    api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}], "cart_version": 1},
        format="json",
    )  # the cart is empty at version 2
    put(api, table, [(food, 3)], version=2)
    newer = put(api, table, [(food, 4)], version=3).json()

    placed = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 3}], "cart_version": 3},
        format="json",
    )

    assert placed.status_code == 201
    left = api.get(f"/api/tables/{table.pk}/cart/").json()
    assert (left["items"], left["version"]) == ([{"food_id": food.pk, "quantity": 1}], newer["version"] + 1)


def test_an_order_without_a_cart_version_leaves_the_cart_alone(api, table, food):
    cart = put(api, table, [(food, 1)], version=0).json()
    api.post("/api/orders/", {"table_id": str(table.pk), "items": cart["items"]}, format="json")
    assert api.get(f"/api/tables/{table.pk}/cart/").json() == cart


def test_a_reset_or_close_empties_the_cart(api, staff_api, table, food):
    put(api, table, [(food, 1)], version=0)
    staff_api.delete(f"/api/tables/{table.pk}/orders/reset/")
    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == []

    put(api, table, [(food, 1)], version=2)
    staff_api.post(f"/api/tables/{table.pk}/close/")
    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == []


def test_a_malformed_cart_version_on_an_order_is_400(api, table, food):
    response = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}], "cart_version": "1"},
        format="json",
    )
    assert "cart_version" in assert_error(response, 400, "invalid")["errors"]


def test_an_order_of_51_lines_of_one_food_is_refused_as_sent(api, table, food):
    response = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}] * 51},
        format="json",
    )
    assert "items" in assert_error(response, 400, "invalid")["errors"]


def put_keyed(api, table, items, version, key):
    return api.put(
        f"/api/tables/{table.pk}/cart/",
        {"items": [{"food_id": f.pk, "quantity": q} for f, q in items], "version": version},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_write_sent_again_after_another_phone_wrote_is_answered_with_the_cart_as_it_is(
    api, table, food, settings, django_capture_on_commit_callbacks
):
    """The phone's write landed but its answer was lost; another phone wrote since. Sent again with its key,
    it is not refused as stale (the phone would put its taps on top a second time): it landed."""
    settings.CHANNEL_LAYERS = IN_MEMORY_LAYER
    beer = FoodFactory()
    put_keyed(api, table, [(food, 1)], version=0, key="tap-1")
    newer = put(api, table, [(food, 1), (beer, 2)], version=1).json()  # another phone
    tab = EventRecorder().subscribe(table_group(table.pk))

    with django_capture_on_commit_callbacks(execute=True):
        again = put_keyed(api, table, [(food, 1)], version=0, key="tap-1")

    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == newer
    assert Cart.objects.get(table=table).version == 2
    assert tab.drain() == []


def test_a_keyed_write_that_never_landed_is_applied_or_refused_as_any_write(api, table, food):
    put(api, table, [(food, 1)], version=0)

    stale = put_keyed(api, table, [(food, 3)], version=0, key="tap-1")
    fresh = put_keyed(api, table, [(food, 3)], version=1, key="tap-2")

    assert_error(stale, 409, "cart_changed")
    assert fresh.status_code == 200 and "Idempotent-Replayed" not in fresh
    assert fresh.json()["items"] == [{"food_id": food.pk, "quantity": 3}]


def test_a_cart_key_reused_with_another_body_is_409(api, table, food):
    put_keyed(api, table, [(food, 1)], version=0, key="tap-1")

    response = put_keyed(api, table, [(food, 2)], version=1, key="tap-1")

    assert_error(response, 409, "idempotency_key_reused")
    assert Cart.objects.get(table=table).items == [{"food_id": food.pk, "quantity": 1}]


def test_the_cart_keeps_its_last_50_keys(api, table, food):
    for version in range(51):
        put_keyed(api, table, [(food, version % 2 + 1)], version=version, key=f"tap-{version}")

    kept = put_keyed(api, table, [(food, 2)], version=1, key="tap-1")
    forgotten = put_keyed(api, table, [(food, 1)], version=0, key="tap-0")

    assert kept.status_code == 200 and kept["Idempotent-Replayed"] == "true"
    assert_error(forgotten, 409, "cart_changed")


def test_an_order_from_an_older_cart_whose_dishes_another_phone_removed_makes_that_version_stale(api, table, food):
    """B removed the pancakes (version 2); A, still at version 1, orders them: the cart is as it was, but a third
    phone also at version 1 must not order them once more."""
    beer = FoodFactory()
    put(api, table, [(food, 2), (beer, 1)], version=0)
    put(api, table, [(beer, 1)], version=1)  # phone B
    lines = [{"food_id": food.pk, "quantity": 2}]
    first = api.post("/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 1}, format="json")
    assert first.status_code == 201

    again = api.post("/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 1}, format="json")

    assert_error(again, 409, "cart_changed")
    assert api.get(f"/api/tables/{table.pk}/cart/").json()["items"] == [{"food_id": beer.pk, "quantity": 1}]
    assert Order.objects.count() == 1


def test_an_order_naming_a_cart_version_the_cart_never_had_is_409(api, table, food):
    put(api, table, [(food, 1)], version=0)
    lines = [{"food_id": food.pk, "quantity": 1}]

    response = api.post("/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 7}, format="json")

    assert_error(response, 409, "cart_changed")
    assert Order.objects.count() == 0


def test_an_order_from_the_cart_before_a_reset_is_409(api, staff_api, table, food):
    """The last guests' phone, unaware of the reset, orders what it still shows."""
    put(api, table, [(food, 1)], version=0)
    assert staff_api.delete(f"/api/tables/{table.pk}/orders/reset/").status_code == 200
    lines = [{"food_id": food.pk, "quantity": 1}]

    response = api.post("/api/orders/", {"table_id": str(table.pk), "items": lines, "cart_version": 1}, format="json")

    assert_error(response, 409, "cart_changed")
