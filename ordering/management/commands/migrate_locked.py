"""`migrate`, safe when several replicas start at once (docker/entrypoint.sh runs it on every start).

On MySQL/MariaDB the replicas queue on a server-wide advisory lock, so one applies the migrations and
the others then find nothing left to do. The lock is held on a connection of its own: whatever migrate
does with the default connection, the lock stays until we release it (or our session ends, which
releases it too, so a crashed replica never blocks the others). Other databases (SQLite: one file,
one machine) simply migrate.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

LOCK_NAME = "pub_migrate"


class Command(BaseCommand):
    help = "Apply migrations under a MySQL/MariaDB advisory lock (GET_LOCK), so that concurrent starts are safe."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="database alias (default: default)")
        parser.add_argument(
            "--lock-timeout",
            type=int,
            default=300,
            help="seconds to wait for another process's migration to finish (default: 300)",
        )

    def handle(self, *args, database, lock_timeout, verbosity, **options):
        if connections[database].vendor != "mysql":
            self._migrate(database, verbosity)
            return
        lock_connection = connections.create_connection(database)
        try:
            with lock_connection.cursor() as cursor:
                if verbosity:
                    self.stdout.write(f"waiting for the migration lock {LOCK_NAME!r} (up to {lock_timeout}s)")
                cursor.execute("SELECT GET_LOCK(%s, %s)", [LOCK_NAME, lock_timeout])
                (acquired,) = cursor.fetchone()
                if acquired != 1:
                    raise CommandError(
                        f"could not take the migration lock {LOCK_NAME!r} within {lock_timeout}s: "
                        "another process is still migrating (or holds the lock)"
                    )
                try:
                    self._migrate(database, verbosity)
                finally:
                    cursor.execute("SELECT RELEASE_LOCK(%s)", [LOCK_NAME])
        finally:
            lock_connection.close()

    def _migrate(self, database: str, verbosity: int) -> None:
        call_command(
            "migrate",
            database=database,
            interactive=False,
            verbosity=verbosity,
            stdout=self.stdout,
            stderr=self.stderr,
        )
