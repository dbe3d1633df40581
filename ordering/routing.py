from ordering.consumers import TableConsumer
from realtime.routing import socket_path

websocket_urlpatterns = [
    socket_path("ws/tables/<str:table_id>/", TableConsumer.as_asgi()),
]
