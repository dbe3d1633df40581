"""Which pages may open a socket: `Origin` compared as scheme, host and port (CONTRACT.md section 5)."""

import logging
from urllib.parse import urlsplit

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
REFUSED = 4403


def normalized(origin: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of a serialized origin, or None if it is not one ("null", paths, user info...)."""
    try:
        parts = urlsplit(origin.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:  # a port out of range or not a number
        return None
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if ":" in host:  # urlsplit drops an IPv6 literal's brackets
        host = f"[{host}]"
    return scheme, host.lower(), DEFAULT_PORTS[scheme] if port is None else port


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1")
    return None


def socket_is_secure(scope) -> bool:
    """As Django's request.is_secure(): wss, or the TLS proxy's header named by SECURE_PROXY_SSL_HEADER."""
    if scope.get("scheme") == "wss":
        return True
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        meta_name, secure_value = proxy_header
        name = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        value = _header(scope, name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return False


def host_allowed(domain: str, patterns: list[str]) -> bool:
    """ALLOWED_HOSTS as Django documents it: "*", an exact name, or ".example.com" for it and its subdomains."""
    domain = domain.removesuffix(".")
    for pattern in (p.lower() for p in patterns):
        if pattern == "*" or domain == pattern:
            return True
        if pattern.startswith(".") and (domain.endswith(pattern) or domain == pattern[1:]):
            return True
    return False


def _own_origin(scope) -> tuple[str, str, int] | None:
    """The site's origin as the socket's request names it: its scheme and its `Host` (one of ALLOWED_HOSTS)."""
    host = _header(scope, b"host")
    if not host:
        return None
    origin = normalized(f"{'https' if socket_is_secure(scope) else 'http'}://{host}")
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django's HttpRequest.get_host()
    if origin is None or not host_allowed(origin[1], allowed):
        return None
    return origin


def origin_allowed(origin: str, scope) -> bool:
    """Same origin as the site, or one of CSRF_TRUSTED_ORIGINS, all three parts equal (CONTRACT.md section 5).

    Not CORS_ALLOWED_ORIGINS: those may read the API; a page that opens sockets is trusted as for writes."""
    parsed = normalized(origin)
    if parsed is None:
        return False
    if parsed == _own_origin(scope):
        return True
    return any(parsed == normalized(value) for value in settings.CSRF_TRUSTED_ORIGINS)


class OriginRefused(AsyncWebsocketConsumer):
    """Accepts, then closes with 4403: the page sees the contract's code, as for a refused user."""

    channel_layer_alias = None

    async def connect(self):
        await self.accept()
        await self.close(code=REFUSED)


refuse = OriginRefused.as_asgi()


class OriginValidator:
    """Refuse browser sockets opened from foreign pages.

    A browser always sends Origin, so a socket with an Origin must come from the site itself (same scheme,
    host and port) or from a trusted origin. Clients that send none (native apps, scripts, tests) are not
    browsers and cannot be tricked into cross-site requests, so they pass; the table UUID or staff token is
    their key.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        if origin is None or origin_allowed(origin, scope):
            return await self.application(scope, receive, send)
        logger.warning("socket refused: foreign origin", extra={"origin": origin[:200], "path": scope.get("path")})
        return await refuse(scope, receive, send)
