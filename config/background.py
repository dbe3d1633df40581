"""Periodic jobs inside every served process: pre-order expiry and the Discord/PayAction outboxes.

They run as one asyncio task on the server's event loop, each job in a worker thread, so that events
they raise go through the same channel layer as requests' (the in-memory layer is per loop). Several
processes may run them at once: every job claims its rows atomically, so none is done twice.
"""

import asyncio
import importlib
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

JOBS = [
    "payments.services.pre_orders_expire",
    "kitchen.services.discord_alerts_dispatch",
    "kitchen.services.staff_call_alerts_dispatch",
    "payments.services.payaction_registrations_dispatch",
]


def run_jobs_once() -> None:
    for dotted in JOBS:
        module, name = dotted.rsplit(".", 1)
        job = getattr(importlib.import_module(module), name)
        close_old_connections()
        try:
            job()
        except Exception:
            logger.exception("background job failed", extra={"job": dotted})
        finally:
            close_old_connections()


async def run_jobs_forever() -> None:
    logger.info("background jobs started", extra={"interval": settings.BACKGROUND_JOBS_INTERVAL})
    while True:
        await sync_to_async(run_jobs_once, thread_sensitive=False)()
        await asyncio.sleep(settings.BACKGROUND_JOBS_INTERVAL)


class JobsStarter:
    """ASGI wrapper that starts the jobs once per process, at server start-up where possible."""

    def __init__(self, application):
        self.application = application
        self.task: asyncio.Task | None = None
        if settings.BACKGROUND_JOBS:
            self._schedule_at_startup()

    def _schedule_at_startup(self) -> None:
        # daphne sets its event loop before importing the application and runs it afterwards;
        # queuing the start on that loop sends pending alerts right after a restart, before any request.
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            return
        if not loop.is_closed() and not loop.is_running():
            loop.call_soon(self._start)

    def _start(self) -> None:
        if self.task is None and settings.BACKGROUND_JOBS:
            self.task = asyncio.get_running_loop().create_task(run_jobs_forever())

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return None
        if self.task is None and settings.BACKGROUND_JOBS:
            self._start()
        return await self.application(scope, receive, send)
