"""Which socket serves a path: the apps' routes, then a refusal at the handshake for every other path.

Channels' URLRouter raises on a path it has no route for, which the server answers 500 with a traceback;
the catch-all route last turns that into a refusal before accepting (HTTP 403), as CONTRACT.md section 5 asks.
"""

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.urls import re_path


class UnknownPath(WebsocketDenier):
    """Closes before accepting: the server answers the handshake 403."""

    channel_layer_alias = None  # refused before anything is sent: no channel-layer channel for it


def websocket_router(routes: list) -> URLRouter:
    return URLRouter([*routes, re_path(r"", UnknownPath.as_asgi())])
