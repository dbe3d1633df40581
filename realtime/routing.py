"""Which socket serves a path: the apps' routes, then a refusal at the handshake for every other path.

Channels' URLRouter raises on a path it has no route for, which the server answers 500 with a traceback;
the catch-all route last turns that into a refusal before accepting (HTTP 403), as CONTRACT.md section 5 asks.
The origin check sits inside each route (socket_path), so an unknown path is refused at the handshake whatever
page asks for it, and a known one from a foreign page gets the contract's 4403.
"""

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import URLRouter
from django.urls import path, re_path

from realtime.origin import OriginValidator


class UnknownPath(AsyncWebsocketConsumer):
    """Closes before accepting: the server answers the handshake 403."""

    channel_layer_alias = None  # refused before anything is sent: no channel-layer channel for it

    async def connect(self):
        await self.close()


def socket_path(route: str, application):
    """A socket route of the contract: opened only from the site's own pages or trusted origins."""
    return path(route, OriginValidator(application))


def websocket_router(routes: list) -> URLRouter:
    return URLRouter([*routes, re_path(r"", UnknownPath.as_asgi())])
