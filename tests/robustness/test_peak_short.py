"""The festival-peak load test at CI size (bench/peak.py --short): the books must agree afterwards."""

import json
import os
import subprocess
import sys

import pytest

from tests.servers import ROOT, test_database_url

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_short_festival_peak_keeps_stock_orders_payments_alerts_and_phones_in_agreement(tmp_path, request):
    redis_url = os.environ.get("REDIS_URL") or request.getfixturevalue("private_redis").url
    out = tmp_path / "peak.json"

    command = [sys.executable, "bench/peak.py", "--short", "--database-url", test_database_url()]
    command += ["--redis-url", redis_url, "--json", str(out)]

    finished = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert out.exists(), finished.stdout[-3000:] + finished.stderr[-3000:]
    result = json.loads(out.read_text())
    checks = {key: value for key, value in result["checks"].items() if key != "stock"}
    assert result["checks"]["ok"], json.dumps(checks, ensure_ascii=False, indent=1)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert result["orders_placed"] + result["pre_orders_placed"] >= 100
    assert result["checks"]["payments_delivered"] > 0
    assert result["alerts"] > 0
