"""Django's ASGI handler on a fixed pool of sync threads, with the whole request in one trip.

Django runs each HTTP request's sync code (middleware, DRF views, the ORM) in a thread of its own: a new
thread, and so a new database connection, for every request. On a 2-core machine that setup cost more
than the request itself. Here every request borrows one of SYNC_THREADS long-lived single-thread executors
instead, so threads and their (persistent, health-checked) database connections are reused; at most
SYNC_THREADS requests run sync code at once in a process, the rest wait their turn on the event loop.

The whole request is one trip to that thread: the request_started signal, the middleware stack (loaded in
sync mode), the view and, for a response whose body is already in memory, request_finished (closing what
the request opened). Django's own ASGI handler makes each of those a separate trip between the event loop
and a thread, and runs two tasks per request to notice a client that hangs up; a sync view cannot be
stopped halfway anyway, so it runs to the end, its answer then going nowhere. (Every view of this project
is sync; an async view would still work, adapted.)
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.urls import set_script_prefix


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int):
        super().__init__()
        self.load_middleware(is_async=False)
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"django-sync-{n}") for n in range(threads)
        ]
        self._idle: asyncio.Queue | None = None

    def _pool(self) -> asyncio.Queue:
        if self._idle is None:  # created on the server's loop, at the first request
            self._idle = asyncio.Queue()
            for executor in self.executors:
                self._idle.put_nowait(executor)
        return self._idle

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        try:
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # its body is read while sending: finish it only now, sent or not
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """In the pool thread: everything of the request but the bytes going out."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
        if not response.streaming:
            response.close()  # request_finished: the content is already rendered
        return response

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        pool = self._pool()
        executor = await pool.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await super().__call__(scope, receive, send)
        finally:
            pool.put_nowait(executor)
