"""Who may open a socket (CONTRACT.md section 5): unknown paths are refused at the handshake, and `Origin`
is compared as scheme, host and port with the site and its trusted origins (refused: close 4403)."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from config.asgi import application
from tests.factories import StaffFactory, TableFactory
from tests.servers import Daphne, test_database_url

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3
UNKNOWN_PATHS = [
    "/ws/",
    "/ws/nope/",
    "/ws/tables/",
    "/ws/tables/abc/extra/",
    "/ws/kitchen/extra/",
    "/ws/staff/nope/",
    "/not-a-socket",
]


@sync_to_async
def new_table():
    return TableFactory()


def _staff_session_cookie() -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(StaffFactory())
    return f"sessionid={client.cookies['sessionid'].value}".encode()


staff_session_cookie = sync_to_async(_staff_session_cookie)


@pytest.fixture(autouse=True)
def _site(settings):
    """The settings' defaults, pinned: whatever a local .env says, these tests mean this site."""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
    settings.CSRF_TRUSTED_ORIGINS = ["http://localhost:8000", "http://127.0.0.1:8000"]
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:8000", "http://127.0.0.1:8000"]
    settings.SECURE_PROXY_SSL_HEADER = None


async def open_socket(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[WebsocketCommunicator, dict]:
    """Connect; returns the first thing the server sent: a message, or {"close": code}."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=TIMEOUT)
    if not connected:
        return communicator, {"refused": code}
    first = await communicator.receive_output(timeout=TIMEOUT)
    if first["type"] == "websocket.close":
        return communicator, {"close": first.get("code")}
    return communicator, json.loads(first["text"])


# --- unknown paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [None, b"http://127.0.0.1:8000", b"http://evil.example"])
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
async def test_an_unknown_socket_path_is_refused_at_the_handshake(path, origin):
    # Whatever page asks: a foreign one too is refused before accepting, not accepted and closed 4403.
    headers = [(b"host", b"127.0.0.1:8000")] + ([(b"origin", origin)] if origin else [])
    communicator = WebsocketCommunicator(application, path, headers=headers)

    connected, code = await communicator.connect(timeout=TIMEOUT)  # raised "No route found" before

    assert connected is False
    assert isinstance(code, int)
    await communicator.disconnect()


async def test_the_known_paths_still_open():
    table = await new_table()
    communicator, first = await open_socket(f"/ws/tables/{table.pk}/", [])
    assert first["type"] == "snapshot"
    await communicator.disconnect()


def _served_env() -> dict:
    from django.conf import settings

    return {
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": "",
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # the session cookie made here must verify there
        "THROTTLE": "off",
        "BACKGROUND_JOBS": "0",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": "http://localhost:8000,http://127.0.0.1:8000",
        "CORS_ALLOWED_ORIGINS": "http://localhost:8000,http://127.0.0.1:8000",
    }


@pytest.mark.integration
def test_a_served_app_answers_an_unknown_socket_path_403_and_checks_origin_by_port():
    table = TableFactory()
    cookie = _staff_session_cookie().decode()
    with Daphne(env=_served_env()) as server:
        for path in ("/ws/nope/", "/ws/kitchen/extra/"):
            for origin in (None, "http://evil.example"):
                with pytest.raises(InvalidStatus) as refused:
                    ws_connect(f"{server.ws_url}{path}", origin=origin, open_timeout=5)
                assert refused.value.response.status_code == 403, (path, origin)

        # Same origin (scheme, host and port of the page that served the socket): open.
        with ws_connect(
            f"{server.ws_url}/ws/kitchen/", origin=server.url, additional_headers={"Cookie": cookie}, open_timeout=5
        ) as socket:
            assert json.loads(socket.recv(timeout=5))["type"] == "snapshot"

        # A page on another port of the same host, with the staff cookie (cookies ignore ports): 4403.
        for origin in ("http://127.0.0.1:31337", "http://localhost:31337"):
            with ws_connect(
                f"{server.ws_url}/ws/kitchen/", origin=origin, additional_headers={"Cookie": cookie}, open_timeout=5
            ) as socket:
                with pytest.raises(ConnectionClosed) as closed:
                    socket.recv(timeout=5)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, origin

        with ws_connect(f"{server.ws_url}/ws/tables/{table.pk}/", open_timeout=5) as socket:  # no Origin: a script
            assert json.loads(socket.recv(timeout=5))["type"] == "snapshot"
        assert "Traceback" not in server.log()


# --- Origin ---------------------------------------------------------------------------------------

HOST = (b"host", b"localhost:8000")


def origin(value: str) -> tuple[bytes, bytes]:
    return (b"origin", value.encode())


REFUSED = [
    pytest.param([HOST, origin("http://localhost:31337")], id="same-host-other-port"),
    pytest.param([HOST, origin("http://localhost")], id="same-host-default-port"),
    pytest.param([HOST, origin("https://localhost:8000")], id="other-scheme"),
    pytest.param([HOST, origin("http://127.0.0.1:8001")], id="trusted-host-other-port"),
    pytest.param([HOST, origin("https://127.0.0.1:8000")], id="trusted-host-other-scheme"),
    pytest.param([HOST, origin("https://evil.example.com")], id="foreign"),
    pytest.param([HOST, origin("null")], id="opaque-origin"),
    pytest.param([HOST, origin("http://localhost:8000@evil.example.com")], id="userinfo-trick"),
    pytest.param([(b"host", b"evil.example.com:8000"), origin("http://evil.example.com:8000")], id="host-not-allowed"),
    pytest.param([origin("http://localhost:31337")], id="no-host-header"),
]
ACCEPTED = [
    pytest.param([HOST], id="no-origin"),
    pytest.param([], id="no-origin-no-host"),
    pytest.param([HOST, origin("http://localhost:8000")], id="same-origin"),
    pytest.param([(b"host", b"LocalHost:31337"), origin("http://localhost:31337")], id="same-origin-any-port"),
    pytest.param([(b"host", b"localhost:8000"), origin("http://127.0.0.1:8000")], id="csrf-trusted"),
    pytest.param([(b"host", b"127.0.0.1:8000"), origin("http://localhost:8000")], id="csrf-trusted-other-host"),
]


@pytest.mark.parametrize("headers", REFUSED)
async def test_a_socket_from_another_origin_is_refused_4403(headers):
    table = await new_table()
    communicator, first = await open_socket(f"/ws/tables/{table.pk}/", headers)
    assert first == {"close": 4403}
    await communicator.disconnect()


@pytest.mark.parametrize("headers", ACCEPTED)
async def test_a_socket_from_the_site_or_a_trusted_origin_or_without_origin_opens(headers):
    table = await new_table()
    communicator, first = await open_socket(f"/ws/tables/{table.pk}/", headers)
    assert first["type"] == "snapshot"
    await communicator.disconnect()


async def test_a_staff_cookie_from_another_port_of_the_same_host_does_not_open_the_kitchen():
    cookie = (b"cookie", await staff_session_cookie())

    refused, first = await open_socket("/ws/kitchen/", [HOST, origin("http://localhost:31337"), cookie])
    assert first == {"close": 4403}
    await refused.disconnect()

    opened, first = await open_socket("/ws/kitchen/", [HOST, origin("http://localhost:8000"), cookie])
    assert first["type"] == "snapshot"
    await opened.disconnect()


async def test_csrf_trusted_origins_are_compared_with_scheme_host_and_port_and_cors_ones_do_not_count(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://pub.example.com"]
    settings.CORS_ALLOWED_ORIGINS = ["https://menu.example.com:8443"]
    table = await new_table()
    inside = (b"host", b"127.0.0.1:8000")  # behind the TLS proxy the socket names the app's own address
    expected = {
        "https://pub.example.com": "snapshot",
        "https://pub.example.com:443": "snapshot",  # the scheme's default port, written out
        "https://PUB.example.com": "snapshot",
        "https://menu.example.com:8443": 4403,  # may read the API (CORS), not open sockets
        "http://pub.example.com": 4403,
        "https://pub.example.com:8443": 4403,
        "https://menu.example.com": 4403,
        "https://sub.pub.example.com": 4403,
    }
    seen = {}
    for value, _ in expected.items():
        communicator, first = await open_socket(f"/ws/tables/{table.pk}/", [inside, origin(value)])
        seen[value] = first.get("close", first.get("type"))
        await communicator.disconnect()
    assert seen == expected


async def test_behind_a_tls_proxy_the_socket_is_https_same_origin(settings):
    """With SECURE_PROXY_SSL_HEADER (DEBUG off) the proxy's X-Forwarded-Proto says the page was https."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    table = await new_table()
    proxied = [(b"host", b"localhost"), (b"x-forwarded-proto", b"https")]
    expected = {"https://localhost": "snapshot", "http://localhost": 4403, "https://localhost:8443": 4403}
    seen = {}
    for value in expected:
        communicator, first = await open_socket(f"/ws/tables/{table.pk}/", [*proxied, origin(value)])
        seen[value] = first.get("close", first.get("type"))
        await communicator.disconnect()
    assert seen == expected


async def test_the_sites_own_origin_is_any_host_that_allowed_hosts_names(settings):
    """Same-origin needs a Host that ALLOWED_HOSTS allows: an exact name, a ".domain" pattern (the domain and
    its subdomains) or "*"; a page of another host that names itself in Host is not the site."""
    table = await new_table()
    cases = [
        (["pub.example.com"], b"PUB.example.com:8000", "snapshot"),
        ([".example.com"], b"bar.example.com", "snapshot"),
        ([".example.com"], b"example.com", "snapshot"),
        ([".example.com"], b"evil-example.com", 4403),
        (["pub.example.com"], b"other.example.com", 4403),
        (["*"], b"anything.test:9000", "snapshot"),
    ]
    seen, expected = [], []
    for allowed, host, outcome in cases:
        settings.ALLOWED_HOSTS = allowed
        page = f"http://{host.decode().lower()}"
        communicator, first = await open_socket(f"/ws/tables/{table.pk}/", [(b"host", host), origin(page)])
        seen.append((allowed, host, first.get("close", first.get("type"))))
        expected.append((allowed, host, outcome))
        await communicator.disconnect()
    assert seen == expected
