"""Serve the real app in daphne subprocesses for tests that cross process boundaries."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def daphne_options() -> list[str]:
    """The options `make dev` and `make serve` give daphne (the Makefile's DAPHNE), so tests serve as they do."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("DAPHNE :="))
    return line.split(" daphne ", 1)[1].split()


DAPHNE_OPTIONS = daphne_options()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str | None:
    """A DATABASE_URL naming the database pytest-django created for this run (so servers share it)."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{connection.settings_dict['NAME']}"
    user = db.get("USER") or "root"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 3306
    return f"mysql://{user}{password}@{host}:{port}/{connection.settings_dict['NAME']}"


def stop_process(process: subprocess.Popen | None, *, kill: bool = False, grace: float = 10.0) -> None:
    """SIGTERM (or SIGKILL: a crash), then SIGKILL if it has not ended within `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class Daphne:
    """One served process of the app: `with Daphne(env={...}) as server: requests.get(server.url + ...)`."""

    def __init__(self, *, env: dict | None = None, port: int | None = None, quiet: bool = False):
        # quiet: wait for the port only and send no request (a request may itself start background work)
        self.quiet = quiet
        self.port = port or free_port()
        # A production-like process takes pre-orders only with an account to pay to (payments.services).
        account = os.environ.get("BANK_ACCOUNT_NO") or "100-200-300"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "BANK_ACCOUNT_NO": account, **(env or {})}
        self.process: subprocess.Popen | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"daphne-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Daphne":
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                *DAPHNE_OPTIONS,
                "config.asgi:application",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log()}")
            try:
                if self.quiet:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return self
                # /healthz, not the menu: an early menu read would be cached before the test's own foods exist.
                elif requests.get(self.url + "/healthz", timeout=1).status_code < 500:
                    return self
            except (OSError, requests.RequestException):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not answer in {timeout}s: {self.log()}")

    def stop(self, kill: bool = False) -> None:
        stop_process(self.process, kill=kill)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


test_database_url.__test__ = False  # a helper, not a test, even when imported into a test module


def shared_layer_env() -> dict:
    """Served processes that share the test database and one Redis channel layer of their own (REDIS_URL
    set by CI): an event raised in one must reach sockets held by another."""
    return {
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "CHANNEL_LAYER_PREFIX": f"t{uuid.uuid4().hex[:8]}",
        "DEBUG": "0",
        "SECRET_KEY": "test-secret",
        "THROTTLE": "off",
        "BACKGROUND_JOBS": "0",
    }
