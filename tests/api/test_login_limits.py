"""Failed staff logins are limited per address and per username: 429 too_many_attempts (CONTRACT.md section 4),
on the API token and on the login page alike."""

import pytest
from django.test import Client

from tests.api.helpers import assert_error

pytestmark = pytest.mark.django_db

PASSWORD = "pw-staff-1234"  # tests.factories.StaffFactory


@pytest.fixture(autouse=True)
def limits(settings):
    settings.THROTTLE_ENABLED = True
    settings.LOGIN_FAILURES_PER_ADDRESS = 6
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600


def token(api, username, password, address="10.0.0.1"):
    return api.post(
        "/api/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_wrong_passwords_for_one_username_end_in_429_even_with_the_right_one(api, staff):
    for _ in range(3):
        assert_error(token(api, staff.username, "guess"), 400, "invalid_credentials")

    refused = token(api, staff.username, PASSWORD, address="10.0.0.2")
    body = assert_error(refused, 429, "too_many_attempts")
    assert (body["retry_after"], refused["Retry-After"]) == (600, "600")


def test_guesses_from_one_address_across_usernames_end_in_429(api, staff):
    for n in range(6):
        assert_error(token(api, f"nobody{n}", "guess"), 400, "invalid_credentials")

    assert_error(token(api, staff.username, PASSWORD), 429, "too_many_attempts")
    assert token(api, staff.username, PASSWORD, address="10.0.0.9").status_code == 200  # another address


def test_a_success_clears_the_username_count(api, staff):
    for _ in range(2):
        token(api, staff.username, "guess")
    assert token(api, staff.username, PASSWORD).status_code == 200
    for _ in range(2):
        assert_error(token(api, staff.username, "guess"), 400, "invalid_credentials")


def test_limits_are_off_with_throttle_off(api, staff, settings):
    settings.THROTTLE_ENABLED = False
    for _ in range(5):
        token(api, staff.username, "guess")
    assert token(api, staff.username, PASSWORD).status_code == 200


def login(client, username, password, address="10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_login_page_is_limited_too_and_says_so_in_korean(staff):
    client = Client()
    for _ in range(3):
        assert login(client, staff.username, "guess").status_code == 200  # the form again, with its error

    refused = login(client, staff.username, PASSWORD)

    assert refused.status_code == 429
    assert "로그인 시도가 너무 많습니다" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_login_page_and_the_api_count_together(api, staff):
    client = Client()
    login(client, staff.username, "guess")
    login(client, staff.username, "guess")
    token(api, staff.username, "guess")

    assert_error(token(api, staff.username, PASSWORD), 429, "too_many_attempts")
    assert login(client, staff.username, PASSWORD).status_code == 429


def test_a_right_password_on_the_page_logs_in(staff):
    client = Client()
    assert login(client, staff.username, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)
