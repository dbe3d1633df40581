"""`manage.py migrate_locked`: migrate, under a MySQL advisory lock when several replicas start at once."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from ordering.management.commands.migrate_locked import LOCK_NAME

pytestmark = pytest.mark.django_db

mysql_only = pytest.mark.skipif(connection.vendor != "mysql", reason="advisory locks are MySQL/MariaDB only")


def test_migrate_locked_migrates_the_current_database():
    out = StringIO()

    call_command("migrate_locked", stdout=out)

    assert "No migrations to apply." in out.getvalue()


@mysql_only
def test_the_lock_is_free_again_afterwards():
    call_command("migrate_locked", stdout=StringIO())

    with connection.cursor() as cursor:
        cursor.execute("SELECT IS_FREE_LOCK(%s)", [LOCK_NAME])
        assert cursor.fetchone()[0] == 1


@mysql_only
def test_waits_for_another_process_holding_the_lock_then_gives_up():
    other = connections.create_connection("default")  # another replica, mid-migration
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", [LOCK_NAME])
            assert cursor.fetchone()[0] == 1

            with pytest.raises(CommandError, match="could not take the migration lock"):
                call_command("migrate_locked", "--lock-timeout", "1", stdout=StringIO())

            cursor.execute("SELECT RELEASE_LOCK(%s)", [LOCK_NAME])
    finally:
        other.close()

    out = StringIO()
    call_command("migrate_locked", stdout=out)
    assert "No migrations to apply." in out.getvalue()
