"""Migrations that change what a venue's database already holds keep it: OutboxHold moved from the core app to
the background app (the table stays; only Django's state moves), idempotency answers gained an owner."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from background.models import OutboxHold
from core.models import IdempotentAnswer

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_hold_written_before_the_move_is_read_after_it():
    until = timezone.now() + timedelta(minutes=5)
    try:
        call_command("migrate", "core", "0003", stdout=StringIO())  # as a venue's database was before
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO core_outboxhold (service, until) VALUES (%s, %s)", ["discord", until])
    finally:
        call_command("migrate", stdout=StringIO())

    assert list(OutboxHold.objects.values_list("service", "until")) == [("discord", until)]


def test_a_staff_key_kept_before_guests_had_keys_is_still_the_same_users():
    """Idempotency answers gained an owner (guests' orders take keys too): a tablet's key answered before the
    change is answered again after it, to the same user only."""
    user = get_user_model().objects.create_user("cook", is_staff=True)
    try:
        call_command("migrate", "core", "0004", stdout=StringIO())
        columns = ", ".join(
            map(connection.ops.quote_name, ["key", "user_id", "fingerprint", "status", "body", "created_at"])
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO core_idempotentanswer ({columns}) VALUES (%s, %s, %s, %s, %s, %s)",
                ["tap-1", user.pk, "f" * 64, 200, "{}", timezone.now()],
            )
    finally:
        call_command("migrate", stdout=StringIO())

    assert list(IdempotentAnswer.objects.values_list("key", "owner", "user")) == [("tap-1", f"user:{user.pk}", user.pk)]
