"""ASGI entry point: HTTP through Django, WebSockets through Channels (CONTRACT.md section 5)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_wsgi_app = get_wsgi_application()  # sets Django up before the consumers are imported

from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from background.jobs import JobsStarter  # noqa: E402
from core.serving import BodyLimit, KeptAnswers, RequestLog, WSGIOnThreads, tune_gc  # noqa: E402
from kitchen.routing import websocket_urlpatterns as kitchen_ws  # noqa: E402
from ordering.menu import menu_etag_for_query, menu_generation  # noqa: E402
from ordering.routing import websocket_urlpatterns as ordering_ws  # noqa: E402
from realtime.routing import websocket_router  # noqa: E402

http = WSGIOnThreads(django_wsgi_app, threads=settings.SYNC_THREADS)  # every view is sync: one trip each
if settings.MENU_EDGE:
    http = KeptAnswers(http, path="/api/foods/", current=menu_etag_for_query, state=menu_generation)

application = JobsStarter(
    ProtocolTypeRouter(
        {
            "http": RequestLog(BodyLimit(http)),
            # Any other path is refused at the handshake (403), never a 500; each route checks Origin
            # (realtime.routing). Table sockets skip the session lookup: a phone's reconnect needs no login
            # (staff routes add their own).
            "websocket": websocket_router(ordering_ws + kitchen_ws),
        }
    )
)

tune_gc()  # last: what is loaded by now is frozen out of the collector's passes
