"""ASGI entry point: HTTP through Django, WebSockets through Channels (CONTRACT.md section 5)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.jobs import JobsStarter  # noqa: E402
from kitchen.routing import websocket_urlpatterns as kitchen_ws  # noqa: E402
from ordering.routing import websocket_urlpatterns as ordering_ws  # noqa: E402
from realtime.origin import OriginValidator  # noqa: E402
from realtime.token_auth import TokenAuthMiddleware  # noqa: E402

application = JobsStarter(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": OriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(ordering_ws + kitchen_ws)))),
        }
    )
)
