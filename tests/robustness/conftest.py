"""Private Redis and MariaDB servers that a test may stop and start, plus helpers for served apps.

The shared MariaDB (3306) and Redis (6379) serve other people's test runs at the same time: a fault test
never touches them. It starts its own instance on a free port, in a temporary folder, and ends it by
its own process handle.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.fakes import Answer, FakeService, Recorded
from tests.servers import ROOT, free_port, stop_process, test_database_url

MARIADBD = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
MARIADB_INSTALL_DB = shutil.which("mariadb-install-db")
REDIS_SERVER = shutil.which("redis-server")

WEBHOOK_KEY = "robust-webhook-key-4f1d9c"
SECRET = "robust-secret-key-8e2b71c0d4"


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {timeout}s")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PrivateRedis:
    """`redis-server` on a free port, without persistence. stop() and start() keep the port."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait(self.ping, 10, "private redis")
        return self

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        stop_process(self.process)
        _wait(lambda: not _port_open(self.port), 10, "private redis shutdown")


class PrivateMariaDB:
    """`mariadbd` on a free port with its own data folder; no grant tables (root, no password)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.datadir = folder / "data"
        self.socket = folder / "mariadb.sock"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = folder / "mariadbd.log"

    def url(self, name: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{name}"

    def install(self) -> "PrivateMariaDB":
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                MARIADB_INSTALL_DB,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=root",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
        )
        return self

    def start(self) -> "PrivateMariaDB":
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [
                MARIADBD,
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                f"--socket={self.socket}",
                "--bind-address=127.0.0.1",
                "--user=root",
                "--skip-grant-tables",
                "--skip-log-bin",
                # Small: the machine is shared; the tests hold a few hundred rows.
                "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M",
                "--max-connections=200",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        _wait(self.ping, 60, "private mariadb")
        return self

    def ping(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited: {self.log_path.read_text(errors='replace')[-2000:]}")
        return self.query("SELECT 1") is not None

    def query(self, sql: str, database: str | None = None):
        import MySQLdb

        try:
            conn = MySQLdb.connect(
                host="127.0.0.1",
                port=self.port,
                user="root",
                connect_timeout=2,
                **({"db": database} if database else {}),
            )
        except MySQLdb.Error:
            return None
        try:
            cursor = conn.cursor()
            cursor.execute(sql)
            rows = cursor.fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a hung host, a partition)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self, *, kill: bool = False) -> None:
        """Shut down (SIGTERM), or crash it (SIGKILL): committed rows must survive either."""
        self.thaw()
        stop_process(self.process, kill=kill, grace=60)
        _wait(lambda: not _port_open(self.port), 10, "private mariadb shutdown")


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    if not REDIS_SERVER:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = PrivateRedis(tmp_path / "redis").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_mariadb(tmp_path) -> Iterator[PrivateMariaDB]:
    if not (MARIADBD and MARIADB_INSTALL_DB):
        pytest.skip("mariadbd / mariadb-install-db are not installed (apt-get install mariadb-server)")
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        pytest.skip("mysqlclient is not installed (uv sync --extra mysql)")
    server = PrivateMariaDB(tmp_path / "mariadb").install().start()
    try:
        yield server
    finally:
        server.stop()


class _AnswerLog(list):
    """FakeService's answer queue that also remembers which answer each request got, in order.

    The fake pops an answer under the same lock as it records the request, so the n-th answer given
    belongs to the n-th request received. Never empty to the fake: an empty queue gives the default.
    """

    def __init__(self, service):
        super().__init__()
        self.service = service
        self.given: list[Answer] = []

    def __bool__(self) -> bool:
        return True

    def pop(self, index: int = -1):
        answer = super().pop(index) if len(self) else self.service.default
        self.given.append(answer)
        return answer


class RecordingFake(FakeService):
    """A FakeService that can tell which requests it answered with a success."""

    def __init__(self, default: Answer | None = None):
        super().__init__(default)
        self.answers = _AnswerLog(self)

    def answered(self) -> list[tuple[Recorded, Answer]]:
        with self._lock:
            return list(zip(self.requests, self.answers.given, strict=True))

    def successes(self) -> list[Recorded]:
        return [recorded for recorded, answer in self.answered() if 200 <= answer.status < 300]


@pytest.fixture
def fake_discord():
    with RecordingFake() as service:
        yield service


def served_env(**overrides) -> dict:
    """Environment for a daphne of the app on the pytest test database; overrides win."""
    env = {
        "DATABASE_URL": test_database_url(),
        "DEBUG": "0",
        "SECRET_KEY": SECRET,
        "THROTTLE": "off",
        "BACKGROUND_JOBS": "0",
        "CHANNEL_LAYER_PREFIX": f"r{uuid.uuid4().hex[:8]}",
        "CACHE_KEY_PREFIX": f"r{uuid.uuid4().hex[:8]}",
        "LOG_LEVEL": "WARNING",
    }
    # An empty value switches a service off (REDIS_URL="" is the in-memory layer), whatever os.environ says.
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def without_outside_env(env: dict) -> dict:
    """os.environ minus what would point a served app at the shared services, then `env`."""
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "DB_HOST"}}
    return {**base, **env}


def manage(*args: str, env: dict, timeout: float = 300) -> str:
    """Run manage.py in a subprocess with `env` (e.g. against a private database)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=without_outside_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stdout[-2000:]} {result.stderr[-3000:]}")
    return result.stdout


def order_body(table_id, food_id, quantity: int = 1) -> dict:
    return {"table_id": str(table_id), "items": [{"food_id": food_id, "quantity": quantity}]}


def post_many(url: str, bodies: list[dict], *, workers: int = 8, timeout: float = 10.0) -> list[tuple]:
    """POST every body concurrently; returns (status or exception name, json or None, seconds) in order."""

    def one(body):
        started = time.monotonic()
        try:
            response = requests.post(url, json=body, timeout=timeout)
        except requests.RequestException as exc:
            return type(exc).__name__, None, time.monotonic() - started
        try:
            data = response.json()
        except ValueError:
            data = None
        return response.status_code, data, time.monotonic() - started

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, bodies))


def delivered_alerts(service: RecordingFake) -> list[str]:
    """Order numbers of the Discord order alerts that the fake answered with a success."""
    return [alert_order_number(recorded) for recorded in service.successes() if "embeds" in recorded.json()]


def alert_order_number(recorded) -> str:
    embed = recorded.json()["embeds"][0]
    return next(field["value"] for field in embed["fields"] if field["name"] == "주문번호")


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def report(name: str, **numbers) -> None:
    """Append a test's measured numbers to $ROBUSTNESS_REPORT (JSON lines), for docs/benchmarks.md."""
    path = os.environ.get("ROBUSTNESS_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": name, **numbers}, ensure_ascii=False) + "\n")
