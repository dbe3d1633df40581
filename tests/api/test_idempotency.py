"""`Idempotency-Key` on staff writes (CONTRACT.md section 10): a repeat with the same key and body returns the
first answer and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.idempotency import answers_forget
from core.models import IdempotentAnswer, StaffAction
from ordering.models import Food, Order
from ordering.services import order_place
from tests.api.helpers import assert_error
from tests.factories import StaffFactory, TableFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(table, food):
    return order_place(table_id=table.pk, quantities={food.pk: 2})


def test_a_repeated_kitchen_tap_answers_the_first_answer_and_changes_nothing(staff_api, ticket):
    path, body = f"/api/orders/{ticket.pk}/kitchen-status/", {"kitchen_status": "cooking"}

    first = staff_api.patch(path, body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")
    again = staff_api.patch(path, body, format="json", HTTP_IDEMPOTENCY_KEY="tap-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert StaffAction.objects.filter(action="kitchen_status").count() == 1
    # Without the key the same request is a new one, and this one is refused: the ticket moved on.
    assert_error(staff_api.patch(path, body, format="json"), 409, "invalid_transition")


def test_a_refused_write_is_answered_the_same_again(staff_api, ticket):
    path, body = f"/api/orders/{ticket.pk}/kitchen-status/", {"kitchen_status": "served"}

    first = staff_api.patch(path, body, format="json", HTTP_IDEMPOTENCY_KEY="tap-2")
    staff_api.patch(path, {"kitchen_status": "cooking"}, format="json")  # now served would be allowed
    again = staff_api.patch(path, body, format="json", HTTP_IDEMPOTENCY_KEY="tap-2")

    assert first.status_code == again.status_code == 409
    assert again.json() == first.json()
    assert Order.objects.get(pk=ticket.pk).kitchen_status == "cooking"


def test_the_same_key_with_another_body_is_409(staff_api, ticket):
    path = f"/api/orders/{ticket.pk}/kitchen-status/"
    staff_api.patch(path, {"kitchen_status": "cooking"}, format="json", HTTP_IDEMPOTENCY_KEY="tap-3")

    reused = staff_api.patch(path, {"kitchen_status": "served"}, format="json", HTTP_IDEMPOTENCY_KEY="tap-3")

    assert_error(reused, 409, "idempotency_key_reused")
    assert Order.objects.get(pk=ticket.pk).kitchen_status == "cooking"


def test_staff_keys_differing_in_case_are_two_keys(staff_api, food):
    """MariaDB compares text without case; the kept answer holds the key's hash, which keeps them apart."""
    staff_api.patch(f"/api/foods/{food.pk}/", {"price": 9000}, format="json", HTTP_IDEMPOTENCY_KEY="Tap-9")
    second = staff_api.patch(f"/api/foods/{food.pk}/", {"price": 9000}, format="json", HTTP_IDEMPOTENCY_KEY="tap-9")

    assert second.status_code == 200 and "Idempotent-Replayed" not in second
    assert StaffAction.objects.filter(action="food_update").count() == 2


def test_keys_are_per_staff_user(staff_api, food):
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=StaffFactory()).key}")

    staff_api.patch(f"/api/foods/{food.pk}/", {"price": 9000}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    second = other.patch(f"/api/foods/{food.pk}/", {"price": 9500}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert second.status_code == 200 and "Idempotent-Replayed" not in second
    assert Food.objects.get(pk=food.pk).price == 9500


def test_a_key_longer_than_200_characters_is_400(staff_api, ticket):
    response = staff_api.patch(
        f"/api/orders/{ticket.pk}/kitchen-status/",
        {"kitchen_status": "cooking"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 201,
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert Order.objects.get(pk=ticket.pk).kitchen_status == "queued"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/foods/{food}/", {"sold_out": True}),
        ("delete", "/api/tables/{table}/orders/reset/?force=true", None),
        ("post", "/api/tables/{table}/close/?force=true", None),
        ("post", "/api/tables/{table}/open/", None),
        ("post", "/api/tables/create/", {"name": "Z1"}),
        ("post", "/api/orders/{order}/refunds/", {"items": [{"food_id": "{food}", "quantity": 1}], "reason": "x"}),
        ("post", "/api/staff-calls/{call}/ack/", None),
    ],
    ids=["menu edit", "reset", "close", "open", "create table", "refund", "acknowledge"],
)
def test_every_staff_write_applies_a_key_once(staff_api, api, table, food, ticket, method, path, body):
    call_id = api.post(f"/api/tables/{table.pk}/call-staff/", {}, format="json").json()["call_id"]
    ids = {"food": food.pk, "table": table.pk, "order": ticket.pk, "call": call_id}
    path = path.format(**ids)
    if body and "items" in body:
        body = {"items": [{"food_id": food.pk, "quantity": 1}], "reason": "x"}

    first = getattr(staff_api, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY="once")
    actions = StaffAction.objects.count()
    again = getattr(staff_api, method)(path, body, format="json", HTTP_IDEMPOTENCY_KEY="once")

    assert first.status_code in {200, 201}, first.content
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert StaffAction.objects.count() == actions  # nothing applied the second time


def test_answers_older_than_a_day_are_forgotten(staff_api, ticket):
    staff_api.patch(
        f"/api/orders/{ticket.pk}/kitchen-status/",
        {"kitchen_status": "cooking"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="old",
    )
    IdempotentAnswer.objects.update(created_at=timezone.now() - timedelta(hours=25))

    assert answers_forget() == 1
    assert not IdempotentAnswer.objects.exists()


def test_the_same_json_with_other_spacing_is_the_same_body(staff_api, ticket):
    path = f"/api/orders/{ticket.pk}/kitchen-status/"
    first = staff_api.generic(
        "PATCH", path, '{"kitchen_status": "cooking"}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="sp"
    )
    again = staff_api.generic(
        "PATCH", path, '{ "kitchen_status" :"cooking" }', content_type="application/json", HTTP_IDEMPOTENCY_KEY="sp"
    )
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"


def test_no_body_and_an_empty_object_are_the_same_body(staff_api, table, food):
    """A retry of a body-less write (open, close, confirm, ack) may be sent with `{}`: it is a repeat."""
    first = staff_api.post(f"/api/tables/{table.pk}/open/", HTTP_IDEMPOTENCY_KEY="open-1")
    again = staff_api.generic(
        "POST", f"/api/tables/{table.pk}/open/", "{}", content_type="application/json", HTTP_IDEMPOTENCY_KEY="open-1"
    )
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Idempotent-Replayed"] == "true"


# --- guests: a phone resending its order after the answer was lost ----------------------------------


def test_an_order_sent_again_with_its_key_is_placed_once(api, table, counted_food):
    body = {"table_id": str(table.pk), "items": [{"food_id": counted_food.pk, "quantity": 2}]}

    first = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1")
    again = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert Food.objects.get(pk=counted_food.pk).stock == 3  # taken once


def test_a_pre_order_sent_again_with_its_key_is_placed_once(api, table, food):
    body = {"payer_name": "김철수", "total_amount": 12000, "items": [{"food_id": food.pk, "quantity": 1}]}
    path = f"/api/orders/pre-order/{table.pk}/"

    first = api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="phone-2")
    again = api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="phone-2")

    # Without the key the second would be 409 payer_name_in_use: the guest would think the order failed.
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Order.objects.count() == 1


def test_a_guests_key_with_another_cart_is_409_and_places_nothing(api, table, food):
    api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="phone-3",
    )
    reused = api.post(
        "/api/orders/",
        {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 5}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="phone-3",
    )

    assert_error(reused, 409, "idempotency_key_reused")
    assert Order.objects.count() == 1


def test_an_order_resent_after_its_dishes_sold_out_is_still_answered_with_itself(api, table, counted_food):
    """The resend must not be refused as sold out: the guest's order took the last units itself."""
    body = {"table_id": str(table.pk), "items": [{"food_id": counted_food.pk, "quantity": 5}]}

    first = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-4")
    again = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-4")

    assert Food.objects.get(pk=counted_food.pk).sold_out
    assert (again.status_code, again.json()["id"]) == (201, first.json()["id"])


def test_a_guests_key_for_another_table_is_409(api, table, food):
    other = TableFactory()
    items = [{"food_id": food.pk, "quantity": 1}]
    api.post("/api/orders/", {"table_id": str(table.pk), "items": items}, format="json", HTTP_IDEMPOTENCY_KEY="k5")

    reused = api.post(
        "/api/orders/", {"table_id": str(other.pk), "items": items}, format="json", HTTP_IDEMPOTENCY_KEY="k5"
    )

    assert_error(reused, 409, "idempotency_key_reused")
    assert not Order.objects.filter(table=other).exists()


def test_guest_keys_differing_in_case_are_two_orders(api, table, food):
    """MariaDB compares text without case; the order keeps the key's hash, which keeps them apart."""
    body = {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}

    api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="Phone-6")
    second = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="phone-6")

    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Order.objects.count() == 2


def test_an_order_key_longer_than_200_characters_is_400(api, table, food):
    body = {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}

    response = api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 201)

    assert_error(response, 400, "invalid_idempotency_key")
    assert not Order.objects.exists()
