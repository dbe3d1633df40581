"""The festival-peak load test at CI size (bench/peak.py --short), with Redis away for 3 s in the middle:
the books must agree afterwards, and every phone must end equal to the server (it catches up by itself)."""

import json
import subprocess
import sys

import pytest

from tests.servers import ROOT, test_database_url

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_short_festival_peak_keeps_stock_orders_payments_alerts_and_phones_in_agreement(tmp_path):
    out = tmp_path / "peak.json"

    # --outage: the bench runs a redis-server of its own and stops it for 3 s in the middle of the load
    command = [sys.executable, "bench/peak.py", "--short", "--database-url", test_database_url()]
    command += ["--outage", "3", "--json", str(out)]

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
    assert result["outage"]["seconds"] >= 3 and result["outage"]["placed_during"] > 0  # answered without Redis
    assert result["checks"]["phones_match_server"]  # ...and every phone caught up
