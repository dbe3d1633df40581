from channels.auth import AuthMiddlewareStack
from django.urls import path

from kitchen.consumers import KitchenConsumer, StaffConsumer
from realtime.token_auth import TokenAuthMiddleware

# Staff sockets only look up who is asking (session cookie or ?token=); table sockets need no login.
websocket_urlpatterns = [
    path("ws/kitchen/", AuthMiddlewareStack(TokenAuthMiddleware(KitchenConsumer.as_asgi()))),
    path("ws/staff/", AuthMiddlewareStack(TokenAuthMiddleware(StaffConsumer.as_asgi()))),
]
