"""ASGI entry point: HTTP through Django, WebSockets through Channels (CONTRACT.md section 5)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # before the consumers are imported

from django.conf import settings  # noqa: E402

from config.handlers import PooledASGIHandler  # noqa: E402

django_asgi_app = PooledASGIHandler(threads=settings.SYNC_THREADS)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config import background, transport  # noqa: E402
from config.edge import MenuEdge  # noqa: E402
from config.websocket import OriginValidator  # noqa: E402
from kitchen.routing import websocket_urlpatterns as kitchen_ws  # noqa: E402
from kitchen.ws_auth import TokenAuthMiddleware  # noqa: E402
from ordering.routing import websocket_urlpatterns as ordering_ws  # noqa: E402

transport.install()  # Daphne's TCP writes sent at once (config/transport.py)

application = background.JobsStarter(
    ProtocolTypeRouter(
        {
            "http": MenuEdge(django_asgi_app),
            "websocket": OriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(ordering_ws + kitchen_ws)))),
        }
    )
)

transport.tune_gc()  # last: what is loaded by now is frozen out of the collector's passes
