"""OutboxHold moved from the core app to the background app: a venue's database migrated before the move
keeps its holds (the table stays; only Django's state moves)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from background.models import OutboxHold

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
