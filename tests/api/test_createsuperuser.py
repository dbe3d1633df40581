import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_createsuperuser_noinput_needs_only_username_and_password(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "manager")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "festival-night-2026")
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)

    call_command("createsuperuser", interactive=False, verbosity=0)

    user = get_user_model().objects.get(username="manager")
    assert user.is_staff and user.is_superuser
    assert user.check_password("festival-night-2026")
