"""Django's ASGI handler on a fixed pool of sync threads, with the whole request in one trip.

Django runs each HTTP request's sync code (middleware, DRF views, the ORM) in a thread of its own: a new
thread, and so a new database connection, for every request. On a 2-core machine that setup cost more
than the request itself. Here every request borrows one of SYNC_THREADS long-lived single-thread executors
instead, so threads and their (persistent, health-checked) database connections are reused; at most
SYNC_THREADS requests run sync code at once in a process, the rest wait their turn on the event loop.

The middleware stack is loaded in sync mode and run, view included, in a single trip to that thread:
under the default async stack every middleware hook and the view are separate trips between the event
loop and a thread. (Every view of this project is sync; an async view would still work, adapted.)
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler


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

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

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
