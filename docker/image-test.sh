#!/usr/bin/env bash
# `make image-test` (CI: .ci/run): build the production image from the Dockerfile and run it for real.
#
# No Docker engine and no container registry here, so:
#   - podman (Debian's) with runc: crun refuses this kind of host's hybrid cgroups, and the default
#     ulimits podman asks for are above the host's hard limits; both set in a CONTAINERS_CONF file;
#   - a stand-in for python:3.11-slim-bookworm, made once with debootstrap from the machine's Debian
#     mirror (Debian's python3 is 3.11 too) and imported as localhost/python-stand-in:3.11-bookworm;
#   - `podman build --format docker` (the OCI format drops HEALTHCHECK) with the host's network;
#   - `podman run --network host` against this machine's MariaDB (127.0.0.1:3306, root, no password:
#     a fresh database pub_image) and Redis (127.0.0.1:6379, db 9, a prefix of this run's own).
# Then checks what a deployment relies on: migrate and seed at start, /healthz, the menu, compressed
# static files, a table's socket snapshot, `podman healthcheck run`, a clean stop on SIGTERM.
#
# Root only (rootful podman, debootstrap, apt-get). Installs podman, runc, debootstrap and the MariaDB
# and Redis clients from Debian when missing. Exits non-zero, saying why, on any failure, including a
# machine that cannot run containers at all; the container is always removed.
#
#   IMAGE_TEST_BASE           stand-in base image (default localhost/python-stand-in:3.11-bookworm)
#   IMAGE_TEST_REBUILD_BASE   1: build the stand-in again even when it exists
#   IMAGE_TEST_IMAGE          the app image's tag (default localhost/pub-ordering:image-test)
#   IMAGE_TEST_START_TIMEOUT  seconds for the container to answer /healthz (default 180)
set -euo pipefail

cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# Health checks are run here by hand (`podman healthcheck run`): no systemd timer for them.
export DISABLE_HC_SYSTEMD=true

BASE_IMAGE=${IMAGE_TEST_BASE:-localhost/python-stand-in:3.11-bookworm}
APP_IMAGE=${IMAGE_TEST_IMAGE:-localhost/pub-ordering:image-test}
START_TIMEOUT=${IMAGE_TEST_START_TIMEOUT:-180}
DB_NAME=pub_image
REDIS_DB=9
KEY_PREFIX="imagetest$$"
CONTAINER="pub-image-test-$$"
DB_CLIENT=(mariadb --protocol=tcp -h 127.0.0.1 -P 3306 -u root --batch --skip-column-names)

WORK=""
ROOTFS=""
CONTAINER_STARTED=0
DB_CREATED=0
PASSED=0
FAILED=0
T_START=$EPOCHREALTIME
TIMINGS=()

say() { echo "image-test: $*"; }

ok() {
    PASSED=$((PASSED + 1))
    say "ok    $*"
}

die() {
    FAILED=$((FAILED + 1))
    {
        echo
        echo "image-test: FAILED: $*"
        echo
    } >&2
    exit 1
}

seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

timing() { TIMINGS+=("$(printf '%-24s %7s s' "$1" "$2")"); }

# --- cleanup: always ----------------------------------------------------------------------------------

unmount_under() {
    # debootstrap mounts /proc and /sys inside the tree it builds; never delete through a mount.
    local dir=$1 mountpoint
    [ -n "$dir" ] || return 0
    while read -r mountpoint; do
        umount -l "$mountpoint" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

cleanup() {
    local status=$?
    set +e
    if [ "$CONTAINER_STARTED" = 1 ]; then
        if [ "$status" -ne 0 ]; then
            echo "--- last lines of the container's log ---" >&2
            podman logs --tail 60 "$CONTAINER" >&2 2>&1
            echo "-----------------------------------------" >&2
        fi
        podman rm -f -t 5 "$CONTAINER" >/dev/null 2>&1
    fi
    if [ "$DB_CREATED" = 1 ]; then
        "${DB_CLIENT[@]}" -e "DROP DATABASE IF EXISTS \`$DB_NAME\`" >/dev/null 2>&1
        redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" --scan --pattern "${KEY_PREFIX}*" 2>/dev/null |
            xargs -r redis-cli -h 127.0.0.1 -p 6379 -n "$REDIS_DB" del >/dev/null 2>&1
    fi
    if [ -n "$ROOTFS" ] && [ -d "$ROOTFS" ]; then
        unmount_under "$ROOTFS"
        rm -rf --one-file-system "$ROOTFS"
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
    echo
    say "timings"
    local line
    for line in "${TIMINGS[@]}"; do
        echo "  $line"
    done
    printf '  %-24s %7s s\n' "total" "$(seconds_since "$T_START")"
    [ "$status" -ne 0 ] && [ "$FAILED" -eq 0 ] && FAILED=1
    echo "image-test: $PASSED passed, $FAILED failed"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tools ----------------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || die "run as root: rootful podman, debootstrap and apt-get (CI runs .ci/run as root)"

need_pkgs=()
need() {  # need COMMAND DEBIAN_PACKAGE
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || need_pkgs+=("$2")
}
need podman podman
need runc runc
need mariadb mariadb-client
need redis-cli redis-tools
need curl curl
need python3 python3
if [ "${IMAGE_TEST_REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$BASE_IMAGE" 2>/dev/null; then
    need debootstrap debootstrap
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing ${need_pkgs[*]} (Debian)"
    apt-get update -qq
    apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

WORK=$(mktemp -d /var/tmp/pub-image-test.XXXXXX)

# crun cannot run on a host with hybrid (v1 + v2) cgroups; runc can. Podman's default ulimits
# (nofile 1048576, nproc 4194304) are refused above the limits podman itself runs with: the host's
# hard limits, and for nproc no more than kernel.pid_max (podman lowers its own to that).
ulimits=()
nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then
    nproc=$pid_max
fi
[ "$nofile" != unlimited ] && ulimits+=("\"nofile=$nofile:$nofile\"")
[ "$nproc" != unlimited ] && ulimits+=("\"nproc=$nproc:$nproc\"")
export CONTAINERS_CONF="$WORK/containers.conf"
{
    echo "[containers]"
    echo "default_ulimits = [$(
        IFS=,
        echo "${ulimits[*]}"
    )]"
    echo
    echo "[engine]"
    echo 'runtime = "runc"'
    echo 'events_logger = "file"'
} >"$CONTAINERS_CONF"

cannot_run_containers() {
    {
        echo
        echo "################################################################################"
        echo "# image-test: THIS MACHINE CANNOT RUN PODMAN. The production image is NOT tested."
        echo "################################################################################"
        echo "$1"
    } >&2
    die "$2"
}

if ! podman_info=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}' 2>&1); then
    cannot_run_containers "$podman_info" "podman info failed (see above)"
fi
say "podman $(podman version --format '{{.Client.Version}}'), runtime/cgroups/storage: $podman_info"

# --- the stand-in base image ------------------------------------------------------------------------

debian_mirror() {
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

build_stand_in() {
    local mirror cert
    mirror=$(debian_mirror)
    ROOTFS="$WORK/rootfs"
    say "building the stand-in $BASE_IMAGE: debootstrap bookworm from $mirror (once; cached by podman)"
    if ! debootstrap --variant=minbase \
        --include=ca-certificates,python3,python3-pip,python3-venv,python3-dev,python-is-python3 \
        bookworm "$ROOTFS" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
        tail -n 30 "$WORK/debootstrap.log" >&2
        die "debootstrap failed (the last lines are above)"
    fi
    unmount_under "$ROOTFS"
    # The same Debian sources as this host (updates, security), so the Dockerfile's apt-get works alike.
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        cp /etc/apt/sources.list.d/debian.sources "$ROOTFS/etc/apt/sources.list.d/debian.sources"
        rm -f "$ROOTFS/etc/apt/sources.list"
    fi
    # The host's locally added certificate authorities (a TLS-inspecting proxy, say): pip, uv and apt
    # inside the build must trust what the host trusts.
    for cert in /usr/local/share/ca-certificates/*.crt; do
        [ -e "$cert" ] || continue
        cp "$cert" "$ROOTFS/usr/local/share/ca-certificates/"
    done
    chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the stand-in"
    # The official image's Python is not Debian's: pip may install into it (the Dockerfile installs uv).
    rm -f "$ROOTFS"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    tar --numeric-owner -C "$ROOTFS" -c . | podman import --quiet \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE" >/dev/null
    rm -rf --one-file-system "$ROOTFS"
    ROOTFS=""
}

t=$EPOCHREALTIME
if [ "${IMAGE_TEST_REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$BASE_IMAGE"; then
    build_stand_in
    timing "stand-in base (built)" "$(seconds_since "$t")"
else
    say "stand-in $BASE_IMAGE exists (IMAGE_TEST_REBUILD_BASE=1 builds it again)"
    timing "stand-in base (cached)" "$(seconds_since "$t")"
fi
if ! run_out=$(podman run --rm --network none "$BASE_IMAGE" python -c 'import sys; print(sys.version_info[:2])' 2>&1); then
    cannot_run_containers "$run_out" "podman cannot start a container from $BASE_IMAGE (see above)"
fi
[ "$run_out" = "(3, 11)" ] || die "the stand-in $BASE_IMAGE runs Python $run_out, not 3.11"
ok "a container runs (runc), base Python 3.11"

# --- the app image ----------------------------------------------------------------------------------

t=$EPOCHREALTIME
old_image=$(podman image inspect --format '{{.Id}}' "$APP_IMAGE" 2>/dev/null || true)
dangling_before=$(podman images --quiet --no-trunc --filter dangling=true | sed 's/^sha256://')
say "podman build --format docker --network host --build-arg PYTHON_IMAGE=$BASE_IMAGE -t $APP_IMAGE ."
if ! podman build --format docker --network host --pull=never \
    --build-arg "PYTHON_IMAGE=$BASE_IMAGE" -t "$APP_IMAGE" -f Dockerfile . >"$WORK/build.log" 2>&1; then
    tail -n 40 "$WORK/build.log" >&2
    die "podman build failed (the last lines are above)"
fi
# The steps that ran (the others came from podman's layer cache).
awk '/STEP [0-9]+\/[0-9]+: / { step = $0 } /^--> Using cache/ { step = "" }
    /^--> [0-9a-f]|COMMIT/ && step != "" { print "  ran: " substr(step, 1, 100); step = "" }' \
    "$WORK/build.log" | grep -E 'STEP [0-9]+/[0-9]+: (RUN|COPY)' || true
new_image=$(podman image inspect --format '{{.Id}}' "$APP_IMAGE")
# The previous build of this tag and the build stages of earlier runs (untagged leaves, dangling before
# this build) only take room now, unless this build used them (a step from cache). Not `podman image
# prune`: it would take this build's build stage too, and the cached dependency layers with it.
used_layers=$(grep -oE '^--> (Using cache )?[0-9a-f]{10,}' "$WORK/build.log" | awk '{ print $NF }')
for image in $old_image $dangling_before; do
    keep=0
    for layer in $new_image $used_layers; do
        case "$image" in "$layer"*) keep=1 ;; esac
    done
    if [ "$keep" = 0 ]; then
        podman rmi "$image" >/dev/null 2>&1 || true
    fi
done
timing "app image build" "$(seconds_since "$t")"
ok "image built: $(podman image inspect --format '{{.Size}}' "$APP_IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')"

podman image inspect --format '{{json .Config.Healthcheck}}' "$APP_IMAGE" | grep -q 'docker/healthcheck.py' ||
    die "the image has no HEALTHCHECK (was it built in the OCI format?)"
ok "HEALTHCHECK kept in the image"

# Only what serving needs went in (.dockerignore); compressed static files were collected; not root.
# shellcheck disable=SC2016  # expanded by the container's shell
contents_check='
set -e
cd /app
for path in tests docs bench .git .ci .env db.sqlite3 docker/image-test.sh; do
    if [ -e "$path" ]; then echo "in the image, should not be: /app/$path"; exit 1; fi
done
for path in manage.py config docker/entrypoint.sh docker/healthcheck.py staticfiles/js/common.js.gz .venv/bin/daphne; do
    if [ ! -e "$path" ]; then echo "missing from the image: /app/$path"; exit 1; fi
done
if [ "$(id -u)" = 0 ]; then echo "runs as root"; exit 1; fi
'
podman run --rm --network none "$APP_IMAGE" sh -c "$contents_check" ||
    die "the image's contents are wrong (see above)"
ok "image contents: no tests/docs/bench/.git, compressed static files, non-root user"

# --- services and the run -----------------------------------------------------------------------------

mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1 ||
    die "MariaDB does not answer on 127.0.0.1:3306 as root without a password (.ci/run starts it)"
[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ] ||
    die "Redis does not answer on 127.0.0.1:6379 (.ci/run starts it)"
"${DB_CLIENT[@]}" -e "DROP DATABASE IF EXISTS \`$DB_NAME\`;
    CREATE DATABASE \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
DB_CREATED=1

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE_URL="http://127.0.0.1:$PORT"
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

t=$EPOCHREALTIME
say "podman run --network host, PORT=$PORT, database $DB_NAME, Redis db $REDIS_DB"
podman run -d --name "$CONTAINER" --network host \
    -e "PORT=$PORT" \
    -e "SECRET_KEY=image-test-$SECRET" \
    -e "ALLOWED_HOSTS=127.0.0.1,localhost" \
    -e "DATABASE_URL=mysql://root@127.0.0.1:3306/$DB_NAME" \
    -e "REDIS_URL=redis://127.0.0.1:6379/$REDIS_DB" \
    -e "CHANNEL_LAYER_PREFIX=$KEY_PREFIX" \
    -e "CACHE_KEY_PREFIX=$KEY_PREFIX" \
    -e "SEED_ON_START=1" \
    "$APP_IMAGE" >/dev/null
CONTAINER_STARTED=1

healthz=""
deadline=$((SECONDS + START_TIMEOUT))
while :; do
    if [ "$(podman inspect --format '{{.State.Running}}' "$CONTAINER")" != true ]; then
        die "the container stopped before answering (exit code $(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER"))"
    fi
    if healthz=$(curl -fsS --max-time 3 "$BASE_URL/healthz" 2>/dev/null); then
        break
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "no answer from $BASE_URL/healthz within ${START_TIMEOUT}s"
    sleep 1
done
timing "start to /healthz 200" "$(seconds_since "$t")"

t=$EPOCHREALTIME
python3 -c '
import json, sys
got = json.loads(sys.argv[1])
parts = {key: got.get(key) for key in ("status", "database", "channel_layer")}
assert parts == dict.fromkeys(parts, "ok"), f"/healthz answered {got}"
' "$healthz" || die "/healthz is not all ok"
ok "GET /healthz 200, status, database and channel_layer ok: $healthz"

logs=$(podman logs "$CONTAINER" 2>&1)
grep -q "entrypoint: database is up" <<<"$logs" || die "the entrypoint did not log 'database is up'"
grep -q "entrypoint: starting daphne on 0.0.0.0:$PORT" <<<"$logs" || die "daphne was not started on PORT=$PORT"
ok "entrypoint waited for the database and started daphne on PORT=$PORT"

migrations=$("${DB_CLIENT[@]}" -e "SELECT COUNT(*) FROM \`$DB_NAME\`.django_migrations")
unapplied=$(podman exec "$CONTAINER" python manage.py showmigrations --plan 2>&1 | grep -c '^\[ \]' || true)
if [ "$migrations" -eq 0 ] || [ "$unapplied" != 0 ]; then
    die "migrations: $migrations recorded, $unapplied left unapplied"
fi
tables=$("${DB_CLIENT[@]}" -e "SELECT COUNT(*) FROM \`$DB_NAME\`.ordering_table")
foods=$("${DB_CLIENT[@]}" -e "SELECT COUNT(*) FROM \`$DB_NAME\`.ordering_food")
if [ "$tables" != 15 ] || [ "$foods" -eq 0 ]; then
    die "seeding: $tables tables (expected 15) and $foods foods"
fi
ok "migrated at start ($migrations migrations, none left) and seeded ($tables tables, $foods foods)"

menu=$(curl -fsS --max-time 10 "$BASE_URL/api/foods/") || die "GET /api/foods/ failed"
python3 -c '
import json, sys
foods = json.loads(sys.argv[1])
assert isinstance(foods, list), f"not a list: {str(foods)[:200]}"
assert len(foods) == int(sys.argv[2]), f"{len(foods)} foods served, {sys.argv[2]} in the database"
assert all({"id", "name", "price"} <= set(food) for food in foods), foods[0]
' "$menu" "$foods" || die "GET /api/foods/ does not serve the seeded menu"
ok "GET /api/foods/ serves the seeded menu ($foods foods)"

static_headers=$(curl -fsS --max-time 10 -o /dev/null -D - -H 'Accept-Encoding: gzip' "$BASE_URL/static/js/common.js") ||
    die "GET /static/js/common.js failed"
grep -qi '^content-encoding: gzip' <<<"$static_headers" ||
    die "static files are served uncompressed (no Content-Encoding: gzip): WHITENOISE_USE_FINDERS on?"
ok "static files served compressed (Content-Encoding: gzip)"

table_id=$("${DB_CLIENT[@]}" -e "SELECT id FROM \`$DB_NAME\`.ordering_table ORDER BY name LIMIT 1")
# The project's own environment has the websockets client (a dev dependency).
if [ -x .venv/bin/python ] && .venv/bin/python -c 'import websockets' 2>/dev/null; then
    ws_python=(.venv/bin/python)
else
    uv=$(command -v uv || echo "$HOME/.local/bin/uv")
    ws_python=("$uv" run --frozen python)
fi
"${ws_python[@]}" - "$PORT" "$table_id" <<'PY' || die "no snapshot from the table's socket"
import asyncio
import json
import sys
import uuid

import websockets

port, table_id = sys.argv[1], str(uuid.UUID(sys.argv[2]))


async def main() -> None:
    url = f"ws://127.0.0.1:{port}/ws/tables/{table_id}/"
    async with websockets.connect(url, origin=f"http://127.0.0.1:{port}", open_timeout=10) as ws:
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert snapshot["type"] == "snapshot", snapshot
        assert snapshot["table"]["id"] == table_id, snapshot["table"]
        assert snapshot["foods"], "the snapshot has no foods"
        await ws.send(json.dumps({"type": "ping"}))
        while True:  # a heartbeat may come first
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] == "pong":
                break
    print(f"table {snapshot['table']['name']}: {len(snapshot['foods'])} foods, seq {snapshot['seq']}, pong")


asyncio.run(main())
PY
ok "WebSocket /ws/tables/{id}/ sends its snapshot and answers ping"

health_out=$(podman healthcheck run "$CONTAINER" 2>&1) || die "podman healthcheck run: $health_out"
ok "podman healthcheck run: ${health_out:-healthy}"
timing "checks" "$(seconds_since "$t")"

# --- a clean stop ---------------------------------------------------------------------------------------

# daphne is PID 1 (the entrypoint execs it) and handles SIGTERM: it stops listening and exits, 0. 143
# (128 + SIGTERM) would be a process ended by the signal's default action: also a clean stop. 137 is
# SIGKILL after the grace period: daphne ignored SIGTERM, and a rolling deploy would wait for it.
t=$EPOCHREALTIME
podman stop -t 20 "$CONTAINER" >/dev/null
stop_seconds=$(seconds_since "$t")
timing "stop" "$stop_seconds"
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$CONTAINER")
case "$exit_code" in
    0 | 143) ;;
    *) die "podman stop: exit code $exit_code after ${stop_seconds}s (0 or 143 expected; 137 is SIGKILL)" ;;
esac
if grep -q Traceback <<<"$(podman logs "$CONTAINER" 2>&1)"; then
    die "a Python traceback is in the container's log"
fi
ok "podman stop: exit code $exit_code after ${stop_seconds}s, no traceback in the log"
