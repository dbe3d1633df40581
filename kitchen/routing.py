from channels.auth import AuthMiddlewareStack

from kitchen.consumers import KitchenConsumer, StaffConsumer
from realtime.routing import socket_path
from realtime.token_auth import TokenAuthMiddleware

# Staff sockets only look up who is asking (session cookie or ?token=); table sockets need no login.
websocket_urlpatterns = [
    socket_path("ws/kitchen/", AuthMiddlewareStack(TokenAuthMiddleware(KitchenConsumer.as_asgi()))),
    socket_path("ws/staff/", AuthMiddlewareStack(TokenAuthMiddleware(StaffConsumer.as_asgi()))),
]
