"""The page shells of CONTRACT.md section 7: who may open them and what the server renders into them."""

import uuid

import pytest
from django.test import Client

from tests.factories import TableFactory

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/kitchen/", "/staff/menu/", "/staff/tables/"]


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def test_table_page_renders_the_tab_shell_with_a_csrf_cookie(client, table):
    response = client.get(f"/t/{table.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-table-id="{table.pk}"' in html
    assert f"{table.name} 테이블" in html
    assert "/static/js/table.js" in html and "/static/css/app.css" in html
    assert "csrftoken" in response.cookies


@pytest.mark.parametrize("table_id", [str(uuid.uuid4()), "not-a-uuid"])
def test_unknown_table_page_is_a_korean_404(client, table_id):
    response = client.get(f"/t/{table_id}/")
    assert response.status_code == 404
    assert "테이블을 찾을 수 없어요" in response.content.decode()


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_send_anonymous_visitors_to_the_login_page(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_share_the_nav_with_a_post_logout(staff_client, path):
    html = staff_client.get(path).content.decode()
    for link in STAFF_PAGES:
        assert f'href="{link}"' in html
    assert 'method="post" action="/accounts/logout/"' in html
    assert 'aria-current="page"' in html


def test_kitchen_page_gets_the_age_thresholds(staff_client, settings):
    settings.KITCHEN_WARN_MINUTES, settings.KITCHEN_LATE_MINUTES = 7, 15
    html = staff_client.get("/kitchen/").content.decode()
    assert 'data-warn-minutes="7"' in html and 'data-late-minutes="15"' in html


@pytest.mark.parametrize(
    ("path", "cache", "page"),
    [("/kitchen/sw.js", "kitchen-board-", "^/kitchen/$"), ("/t/sw.js", "table-tab-", "^/t/[0-9A-Fa-f-]{36}/$")],
)
def test_a_pages_worker_is_javascript_beside_it_for_anyone_and_revalidated(client, settings, path, cache, page):
    # Beside its page so its scope covers it; no login, since a browser refuses a worker that redirects;
    # revalidated, so a new release reaches the pages at their next load; its own cache and page paths.
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    assert f'const STATIC_PREFIX = "{settings.STATIC_URL}";' in script
    assert f'const CACHE_PREFIX = "{cache}";' in script
    assert f'const PAGE = new RegExp("{page}");' in script


def test_staff_tables_page_has_one_qr_code_per_table_with_its_absolute_link(staff_client):
    tables = [TableFactory(name="A1"), TableFactory(name="A2")]
    html = staff_client.get("/staff/tables/").content.decode()
    assert html.count('<svg viewBox="') == 2
    for table in tables:
        assert f'href="http://testserver/t/{table.pk}/"' in html


@pytest.mark.parametrize(
    ("host", "public_base_url", "warned"),
    [
        ("127.0.0.1:8000", "", "127.0.0.1"),
        ("localhost:8000", "", "localhost"),
        ("[::1]:8000", "", "::1"),
        ("192.168.0.10:8000", "", None),
        ("127.0.0.1:8000", "http://192.168.0.10:8000", None),  # the QR codes carry PUBLIC_BASE_URL
        ("192.168.0.10:8000", "http://localhost:8000", "localhost"),
        ("192.168.0.10:8000", "http://[not-a-host", None),  # a mistyped setting: no warning, no error
    ],
)
def test_the_qr_sheet_warns_when_its_codes_point_at_this_machine_only(
    staff_client, settings, host, public_base_url, warned
):
    settings.ALLOWED_HOSTS, settings.PUBLIC_BASE_URL = ["*"], public_base_url
    TableFactory(name="A1")

    response = staff_client.get("/staff/tables/", HTTP_HOST=host)
    html = response.content.decode()

    assert response.status_code == 200

    if warned is None:
        assert 'id="qr-warning"' not in html
    else:
        assert 'id="qr-warning"' in html and f"<strong>{warned}</strong>" in html


def test_login_page_is_korean_and_keeps_next(client):
    html = client.get("/accounts/login/?next=/staff/menu/").content.decode()
    assert "직원 로그인" in html
    assert 'name="next" value="/staff/menu/"' in html


def test_login_with_a_wrong_password_says_so_in_korean(client, staff):
    response = client.post("/accounts/login/", {"username": staff.username, "password": "wrong", "next": "/kitchen/"})
    assert response.status_code == 200
    assert "아이디 또는 비밀번호가 올바르지 않습니다" in response.content.decode()


def test_logout_is_a_post_and_returns_to_the_login_page(staff_client):
    response = staff_client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert staff_client.get("/kitchen/").status_code == 302


@pytest.mark.parametrize(
    ("name", "heading"), [("A1", "A1</span> 테이블</h1>"), ("야외 테이블", "야외 테이블</span></h1>")]
)
def test_the_table_page_names_the_table_once(client, name, heading):
    table = TableFactory(name=name)

    html = client.get(f"/t/{table.pk}/").content.decode()

    assert heading in html and "테이블 테이블" not in html
