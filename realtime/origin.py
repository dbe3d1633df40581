from urllib.parse import urlparse

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, validate_host


class OriginValidator:
    """Refuse browser sockets opened from foreign pages.

    A browser always sends Origin, so a socket with an Origin must come from an allowed host or CORS
    origin. Clients that send none (phones' native apps, scripts, tests) are not browsers and cannot
    be tricked into cross-site requests, so they pass; the table UUID or staff token is their key.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = dict(scope.get("headers", [])).get(b"origin")
        if origin is None or self._allowed(origin.decode("latin1")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    @staticmethod
    def _allowed(origin: str) -> bool:
        if origin in settings.CORS_ALLOWED_ORIGINS or origin in settings.CSRF_TRUSTED_ORIGINS:
            return True
        host = urlparse(origin).hostname
        if not host:
            return False
        allowed = ["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else settings.ALLOWED_HOSTS
        return validate_host(host, allowed) or any(is_same_domain(host, pattern) for pattern in allowed)
