#!/bin/sh
# Container start (Dockerfile ENTRYPOINT): wait for the database, migrate under a lock so that several
# replicas can start at once, optionally seed, then replace this shell with daphne (PID 1, gets SIGTERM).
#
#   DB_WAIT_SECONDS   how long to wait for the database (default 60)
#   MIGRATE_ON_START  1 (default): `manage.py migrate_locked`; 0: skip
#   SEED_ON_START     1: `manage.py seed_data` and `seed_tables` (both idempotent); default 0
#   PORT              the port daphne listens on, on every interface (default 8000; the health check
#                     reads the same variable)
#
# With arguments, runs them instead: `docker compose run --rm app python manage.py shell`.
set -eu

if [ "$#" -gt 0 ]; then
    exec "$@"
fi

cd "$(dirname "$0")/.."  # /app in the image
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"
DB_WAIT_SECONDS="${DB_WAIT_SECONDS:-60}"
MIGRATE_ON_START="${MIGRATE_ON_START:-1}"
SEED_ON_START="${SEED_ON_START:-0}"
PORT="${PORT:-8000}"

log() {
    echo "entrypoint: $*" >&2
}

# Checked first: a typo here would otherwise surface only after the wait and the migrations.
port_is_valid() {
    case "$PORT" in
        '' | *[!0-9]*) return 1 ;;
    esac
    [ "${#PORT}" -le 5 ] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ]
}
if ! port_is_valid; then
    log "PORT must be a number from 1 to 65535, not '$PORT'"
    exit 64
fi

# Exit 0: the database answers. 75 (EX_TEMPFAIL): not yet. Anything else: the settings themselves are
# wrong (a missing SECRET_KEY, say), and waiting cannot help: the error is printed and we stop.
db_ping() {
    python -c '
import sys

import django

django.setup()
from django.db import connection

try:
    connection.ensure_connection()
except Exception as exc:
    print(f"entrypoint: database not ready: {exc}", file=sys.stderr)
    sys.exit(75)
'
}

wait_for_db() {
    waited=0
    while :; do
        status=0
        db_ping || status=$?
        if [ "$status" -eq 0 ]; then
            return 0
        fi
        if [ "$status" -ne 75 ]; then
            log "cannot start: the settings did not load (see above)"
            exit "$status"
        fi
        if [ "$waited" -ge "$DB_WAIT_SECONDS" ]; then
            log "gave up waiting for the database after ${DB_WAIT_SECONDS}s"
            exit 1
        fi
        sleep 2
        waited=$((waited + 2))
    done
}

wait_for_db
log "database is up"

if [ "$MIGRATE_ON_START" = "1" ]; then
    # One replica migrates while the others wait on the MySQL advisory lock, then find nothing to do.
    python manage.py migrate_locked
fi

if [ "$SEED_ON_START" = "1" ]; then
    python manage.py seed_data
    python manage.py seed_tables
fi

# daphne's access log is plain text; with JSON logs the app writes one JSON line per request instead
# (ACCESS_LOG), so daphne runs quiet (-v 0) and the log stays one JSON object per line.
verbosity=1
if [ "$(printf '%s' "${LOG_FORMAT:-text}" | tr '[:upper:]' '[:lower:]')" = "json" ]; then
    verbosity=0
fi
log "starting daphne on 0.0.0.0:$PORT"
# A socket's message of any size up to 16 MiB gets its `error` and stays open (daphne's own limit is 1 MiB).
exec daphne -b 0.0.0.0 -p "$PORT" --proxy-headers -v "$verbosity" \
    --websocket-max-message-size 16777216 --websocket-max-frame-size 16777216 config.asgi:application
