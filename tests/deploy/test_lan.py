"""Phones on the pub's Wi-Fi (issue "Ready for a real venue", item 1): the address they use is printed, put in
every QR code and link, and accepted as a host; `make serve` works after `make dev`."""

import os
import re
import socket
import subprocess
import time

import pytest
import requests

from tests.deploy.support import ROOT, environment, run

SETTINGS = "import django; django.setup(); from django.conf import settings; "


def test_the_public_address_is_an_allowed_host_and_a_trusted_origin():
    env = environment(SECRET_KEY="x" * 50, PUBLIC_BASE_URL="http://192.168.0.10:8000")
    result = run(["-c", SETTINGS + "print(settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS)"], env)
    assert result.returncode == 0, result.stderr
    assert "'192.168.0.10'" in result.stdout and "'http://192.168.0.10:8000'" in result.stdout


def test_serving_every_interface_in_debug_lets_phones_in_and_production_does_not():
    lan = environment(DEBUG="1", HOST="0.0.0.0")
    prod = environment(SECRET_KEY="x" * 50, HOST="0.0.0.0")
    assert run(["-c", SETTINGS + "print(settings.ALLOWED_HOSTS)"], lan).stdout.strip() == "['*']"
    assert "*" not in run(["-c", SETTINGS + "print(settings.ALLOWED_HOSTS)"], prod).stdout


@pytest.mark.django_db
def test_the_printed_urls_and_qr_use_the_public_address(settings, table):
    from io import StringIO

    from django.core.management import call_command

    settings.PUBLIC_BASE_URL = "http://192.168.0.10:8000"
    out = StringIO()
    call_command("show_urls", "--host", "0.0.0.0", "--port", "8000", stdout=out)
    printed = out.getvalue()

    assert f"http://192.168.0.10:8000/t/{table.pk}/" in printed
    assert "http://192.168.0.10:8000/kitchen/" in printed
    assert "▀" in printed or "█" in printed  # the terminal QR of the first table
    assert "준비됨" in printed


@pytest.mark.django_db
def test_without_a_public_address_every_interface_prints_this_machines_lan_address(settings, table):
    from io import StringIO

    from django.core.management import call_command

    settings.PUBLIC_BASE_URL = ""
    out = StringIO()
    call_command("show_urls", "--host", "0.0.0.0", "--port", "8123", "--no-qr", stdout=out)

    assert "0.0.0.0" not in out.getvalue()
    assert re.search(r"http://[\d.]+:8123/kitchen/", out.getvalue())


@pytest.mark.django_db
def test_the_qr_codes_of_the_staff_page_carry_the_public_address(settings, table, client, staff):
    settings.PUBLIC_BASE_URL = "https://pub.example.com"
    client.force_login(staff)
    page = client.get("/staff/tables/").content.decode()
    assert f"https://pub.example.com/t/{table.pk}/" in page


def test_make_serve_works_after_make_dev(tmp_path):
    """`make dev` sets DEBUG; `make serve` used to start without it and refuse for want of a SECRET_KEY."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = environment(DATABASE_URL=f"sqlite:///{tmp_path}/serve.sqlite3", DEBUG=None, SECRET_KEY=None, PORT=str(port))
    env.pop("REDIS_URL", None)
    assert run(["manage.py", "migrate", "--noinput", "-v", "0"], {**env, "DEBUG": "1"}).returncode == 0
    process = subprocess.Popen(
        ["make", "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert answer is not None and answer.status_code == 200, process.poll()
    finally:
        os.killpg(process.pid, 15)
        process.wait(20)


def test_with_a_mysql_url_and_no_build_packages_make_says_what_to_install(tmp_path):
    """mysqlclient compiles against libmariadb: without pkg-config uv used to fail with a 30-line trace."""
    fake_uv = tmp_path / "uv"
    fake_uv.write_text('#!/bin/sh\n[ "$1" = run ] && exit 1\necho "uv $*"\n')  # no MySQLdb in the environment
    fake_uv.chmod(0o755)
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "DATABASE_URL": "mysql://root@127.0.0.1:3306/x"}

    result = subprocess.run(
        ["/usr/bin/make", "--no-print-directory", "install", f"UV={fake_uv}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "apt-get install pkg-config libmariadb-dev" in result.stdout
    assert "uv sync" not in result.stdout  # stopped before the compiler could fail


@pytest.mark.django_db
def test_make_dev_warns_when_no_bank_account_is_set(settings, table):
    from io import StringIO

    from django.core.management import call_command

    settings.BANK_ACCOUNT_NO = ""
    out = StringIO()
    call_command("show_urls", "--no-qr", stdout=out)
    assert "BANK_ACCOUNT_NO" in out.getvalue()


@pytest.mark.django_db
def test_the_demo_staff_password_is_random_unless_set(monkeypatch, tmp_path):
    from io import StringIO

    from django.contrib.auth import authenticate
    from django.core.management import call_command

    from kitchen.management.commands import ensure_staff

    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "demo-staff")
    monkeypatch.setattr(ensure_staff, "PASSWORD_FILE", tmp_path / "password")
    out = StringIO()
    call_command("ensure_staff", stdout=out)

    password = out.getvalue().strip().rsplit(" / ", 1)[1]
    assert password != "staff1234" and len(password) >= 12
    assert authenticate(username="demo-staff", password=password) is not None
    assert authenticate(username="demo-staff", password="staff1234") is None
    assert (tmp_path / "password").read_text().strip() == password
