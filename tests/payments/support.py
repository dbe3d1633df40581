"""Helpers of the pay-first tests: PayAction deliveries, pre-orders, captured channel-layer events,
and served processes on a database they share with the test."""

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from tests.servers import ROOT, test_database_url

SAMPLES = json.loads((Path(__file__).parent / "data" / "payaction-webhooks.json").read_text(encoding="utf-8"))
WEBHOOK_KEY = "whk-test-0123456789"
MALL_ID = "mall-test-42"
ON_MARIADB = settings.DATABASES["default"]["ENGINE"].endswith("mysql")


# --- PayAction deliveries -----------------------------------------------------------------------------


def deposit_body(name: str, amount: int, **overrides) -> dict:
    body = {**SAMPLES["deposit_notice"]["body"], "transaction_name": name, "amount": amount}
    body.update(overrides)
    return body


def match_body(order_number: str) -> dict:
    return {**SAMPLES["match_notice"]["body"], "order_number": order_number}


def deliver(
    client, body=None, *, trace_id: str | None = "auto", raw: bytes | None = None, key=WEBHOOK_KEY, mall=MALL_ID
):
    """POST one delivery to the webhook the way PayAction does; trace_id=None sends no x-trace-id."""
    headers = {}
    if key is not None:
        headers["x-webhook-key"] = key
    if mall is not None:
        headers["x-mall-id"] = mall
    if trace_id == "auto":
        trace_id = str(uuid.uuid4())
    if trace_id is not None:
        headers["x-trace-id"] = trace_id
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return client.post("/api/webhook/payment/", data=data, content_type="application/json", headers=headers)


# --- orders -------------------------------------------------------------------------------------------


def lines(*pairs) -> list[dict]:
    return [{"food_id": food.pk, "quantity": quantity} for food, quantity in pairs]


def pre_order(client, table, *pairs, payer_name: str = "홍길동", total: int | None = None):
    if total is None:
        total = sum(food.price * quantity for food, quantity in pairs)
    body = {"payer_name": payer_name, "total_amount": total, "items": lines(*pairs)}
    return client.post(f"/api/orders/pre-order/{table.pk}/", body, format="json")


def direct_order(client, table, *pairs):
    return client.post("/api/orders/", {"table_id": str(table.pk), "items": lines(*pairs)}, format="json")


# --- events -------------------------------------------------------------------------------------------


def capture_events(groups: list[str], action, *, settle: float = 0.3):
    """Run `action` (sync) with one test channel listening on each group; returns (its result, {group: events}).

    The whole exchange runs on one event loop, so it works with the in-memory and the Redis layer alike.
    """

    async def run():
        layer = get_channel_layer()
        channels = {group: await layer.new_channel() for group in groups}
        for group, channel in channels.items():
            await layer.group_add(group, channel)
        received: dict[str, list[dict]] = {group: [] for group in groups}
        try:
            result = await sync_to_async(action)()
            for group, channel in channels.items():
                while True:
                    try:
                        message = await asyncio.wait_for(layer.receive(channel), timeout=settle)
                    except TimeoutError:
                        break
                    received[group].append(json.loads(message["text"]))
        finally:
            for group, channel in channels.items():
                await layer.group_discard(group, channel)
        return result, received

    return async_to_sync(run)()


def in_commit(capture_fixture, run):
    """`run` inside django_capture_on_commit_callbacks(execute=True): its on-commit events really go out."""

    def action():
        with capture_fixture(execute=True):
            return run()

    return action


# --- served processes ---------------------------------------------------------------------------------


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class ServedDatabase:
    """A database the test and served processes share: the test database on MariaDB, a file on SQLite."""

    def __init__(self, url: str):
        self.url = url

    def run(self, code: str):
        """Run Python against this database in a fresh Django process; returns the JSON it prints last."""
        env = {**os.environ, "DATABASE_URL": self.url, "BACKGROUND_JOBS": "0", "LOG_LEVEL": "WARNING"}
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])


def sqlite_template(directory: Path) -> Path:
    """A migrated SQLite file (WAL checkpointed, so that a plain copy holds everything)."""
    path = directory / "template.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "BACKGROUND_JOBS": "0"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
    )
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def served_database(template: Path | None, tmp_path: Path) -> ServedDatabase:
    if ON_MARIADB:
        return ServedDatabase(test_database_url())
    path = tmp_path / "served.sqlite3"
    shutil.copy(template, path)
    return ServedDatabase(f"sqlite:///{path}")


def server_env(db: ServedDatabase, **extra) -> dict:
    env = {
        "DATABASE_URL": db.url,
        "SECRET_KEY": "test-secret-served",
        "DEBUG": "0",
        "THROTTLE": "off",
        "LOG_LEVEL": "WARNING",
        "BACKGROUND_JOBS": "1",
        "BACKGROUND_JOBS_INTERVAL": "0.2",
        "CHANNEL_LAYER_PREFIX": f"hp{uuid.uuid4().hex[:8]}",
        "DISCORD_WEBHOOK_URL": "",
        "DISCORD_CALL_WEBHOOK_URL": "",
        "PAYACTION_WEBHOOK_KEY": WEBHOOK_KEY,
        "PAYACTION_MALL_ID": MALL_ID,
        "PAYACTION_API_KEY": "",
    }
    env.update({key: str(value) for key, value in extra.items()})
    return env
