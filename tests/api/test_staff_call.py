"""POST /api/tables/{id}/call-staff/: a customer calls staff; the kitchen hears it (staff.called)."""

import uuid

import pytest
from django.conf import settings
from django.core.cache import cache

from kitchen.models import StaffCall
from tests.api.helpers import assert_error, iso

pytestmark = pytest.mark.django_db


def url(table_id) -> str:
    return f"/api/tables/{table_id}/call-staff/"


@pytest.fixture
def throttling(settings, table):
    """Rate limits on, with fresh counters for this client and table (only these keys: the cache may be shared)."""
    settings.THROTTLE_ENABLED = True
    keys = [f"throttle_staff_call_{table.pk}", "throttle_public_write_ip_127.0.0.1"]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def test_call_staff_is_202_and_reaches_the_kitchen(api, table, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(table.pk), {"message": "  물 좀 주세요  "}, format="json")

    assert response.status_code == 202
    call = StaffCall.objects.get()
    assert response.json() == {"status": "sent", "call_id": call.pk}
    assert (call.table_id, call.message) == (table.pk, "물 좀 주세요")
    assert (call.acked_at, call.acked_by) == (None, None)
    received = events.drain()
    assert len(received) == 1
    event = received[0]
    assert event["type"] == "staff.called"
    assert set(event) == {"type", "ts", "seq", "call"}  # the call is the payload: no top-level table or message
    assert event["call"] == {
        "id": call.pk,
        "table": {"id": str(table.pk), "name": table.name},
        "message": "물 좀 주세요",
        "created_at": iso(call.created_at),
        "acked_at": None,
        "acked_by": None,
    }
    assert event["ts"].endswith("+09:00")


@pytest.mark.parametrize("body", [{}, {"message": ""}, None])
def test_call_staff_without_a_message(api, table, events, django_capture_on_commit_callbacks, body):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(table.pk), body, format="json")

    assert response.status_code == 202
    call = StaffCall.objects.get()
    assert response.json() == {"status": "sent", "call_id": call.pk}
    assert call.message == ""
    assert [(event["type"], event["call"]["message"]) for event in events.drain()] == [("staff.called", "")]


def test_a_message_of_200_characters_is_accepted(api, table):
    response = api.post(url(table.pk), {"message": "가" * 200}, format="json")

    assert response.status_code == 202
    assert StaffCall.objects.get().message == "가" * 200


@pytest.mark.parametrize("body", [{"message": "가" * 201}, {"message": ["help"]}, {"message": {"a": 1}}, [1]])
def test_bad_message_is_400_and_calls_nobody(api, table, snapshot, events, django_capture_on_commit_callbacks, body):
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(table.pk), body, format="json")

    assert_error(response, 400, "invalid")
    assert snapshot() == before
    assert events.drain() == []


@pytest.mark.parametrize("table_id", [str(uuid.uuid4()), "not-a-uuid", "%00"])
def test_unknown_table_is_404_and_calls_nobody(
    api, table, snapshot, events, django_capture_on_commit_callbacks, table_id
):
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(table_id), {"message": "hi"}, format="json")

    assert_error(response, 404, "table_not_found")
    assert snapshot() == before
    assert events.drain() == []


def test_calls_are_rate_limited_per_table(api, table, throttling, events, django_capture_on_commit_callbacks):
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["staff_call"].split("/")[0])
    for _ in range(allowed):
        assert api.post(url(table.pk), {"message": "여기요"}, format="json").status_code == 202
    events.drain()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(table.pk), {"message": "여기요"}, format="json")

    body = assert_error(response, 429, "too_many_calls")
    assert 1 <= body["retry_after"] <= 61
    assert response["Retry-After"] == str(body["retry_after"])
    assert StaffCall.objects.count() == allowed
    assert events.drain() == []


def test_refused_bodies_do_not_use_up_the_tables_calls(api, table, throttling):
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["staff_call"].split("/")[0])
    for _ in range(allowed + 2):
        assert_error(api.post(url(table.pk), {"message": "가" * 201}, format="json"), 400, "invalid")

    for _ in range(allowed):
        assert api.post(url(table.pk), {"message": "여기요"}, format="json").status_code == 202
    assert_error(api.post(url(table.pk), {"message": "여기요"}, format="json"), 429, "too_many_calls")
    assert StaffCall.objects.count() == allowed


def test_rate_limit_of_one_table_leaves_other_tables_alone(api, table, throttling):
    other = type(table).objects.create(name="Z-other")
    cache.delete(f"throttle_staff_call_{other.pk}")
    for _ in range(4):
        api.post(url(table.pk), {}, format="json")

    response = api.post(url(other.pk), {}, format="json")

    assert response.status_code == 202
    cache.delete(f"throttle_staff_call_{other.pk}")


def test_unknown_table_is_404_even_when_rate_limited(api, table, throttling):
    for _ in range(4):
        api.post(url(table.pk), {}, format="json")

    response = api.post(url(uuid.uuid4()), {}, format="json")

    assert_error(response, 404, "table_not_found")


def test_a_call_sent_again_with_its_key_is_the_first_call(api, table, events, django_capture_on_commit_callbacks):
    """The phone lost the answer and calls again with the same Idempotency-Key: one call, one alert."""
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(url(table.pk), {"message": "물 주세요"}, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    events.drain()

    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(url(table.pk), {"message": "물 주세요"}, format="json", HTTP_IDEMPOTENCY_KEY="call-1")

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert StaffCall.objects.count() == 1
    assert events.drain() == []


def test_a_new_key_is_a_new_call(api, table):
    api.post(url(table.pk), {"message": "물"}, format="json", HTTP_IDEMPOTENCY_KEY="call-1")

    second = api.post(url(table.pk), {"message": "물"}, format="json", HTTP_IDEMPOTENCY_KEY="call-2")

    assert second.status_code == 202 and "Idempotent-Replayed" not in second
    assert StaffCall.objects.count() == 2


@pytest.mark.parametrize("other", ["message", "table"])
def test_a_call_key_reused_for_another_call_is_409(api, table, other):
    api.post(url(table.pk), {"message": "물"}, format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    target = type(table).objects.create(name="Z-other").pk if other == "table" else table.pk
    message = "앞접시" if other == "message" else "물"

    response = api.post(url(target), {"message": message}, format="json", HTTP_IDEMPOTENCY_KEY="call-1")

    assert_error(response, 409, "idempotency_key_reused")
    assert StaffCall.objects.count() == 1


def test_the_per_table_limit_counts_a_table_however_its_uuid_is_spelt(api, table, throttling):
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["staff_call"].split("/")[0])
    for _ in range(allowed):
        assert api.post(url(table.pk), {}, format="json").status_code == 202

    for spelling in (str(table.pk).upper(), str(table.pk)[:8].upper() + str(table.pk)[8:]):
        assert_error(api.post(url(spelling), {}, format="json"), 429, "too_many_calls")
    assert StaffCall.objects.count() == allowed
