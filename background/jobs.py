"""Periodic jobs inside every served process (settings.PERIODIC_JOBS): expiry and the outboxes.

They run as asyncio tasks on the server's event loop, one loop per job (a slow outside service never
holds up expiry), each run in a worker thread, so that events they raise go through the same channel
layer as requests' (the in-memory layer is per loop). Several processes may run them at once: every job
claims its rows atomically, so none is done twice.
"""

import asyncio
import importlib
import logging
import sys

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def run_job(dotted: str) -> None:
    module, name = dotted.rsplit(".", 1)
    job = getattr(importlib.import_module(module), name)
    try:
        close_old_connections()
        job()
    except Exception:
        logger.exception("background job failed", extra={"job": dotted})
    finally:
        close_old_connections()


async def run_job_forever(dotted: str) -> None:
    while True:
        try:
            await sync_to_async(run_job, thread_sensitive=False)(dotted)
        except asyncio.CancelledError:
            raise
        except Exception:  # never let one bad round end the loop for the life of the process
            logger.exception("background job failed", extra={"job": dotted})
        await asyncio.sleep(settings.BACKGROUND_JOBS_INTERVAL)


async def run_jobs_forever() -> None:
    logger.info("background jobs started", extra={"interval": settings.BACKGROUND_JOBS_INTERVAL})
    await asyncio.gather(*(run_job_forever(dotted) for dotted in settings.PERIODIC_JOBS))


async def run_process_tasks() -> None:
    """settings.PROCESS_TASKS: coroutines each process runs once on its loop (say, following the menu)."""
    for dotted in settings.PROCESS_TASKS:
        module, name = dotted.rsplit(".", 1)
        try:
            await getattr(importlib.import_module(module), name)()
        except Exception:
            logger.exception("process task failed", extra={"task": dotted})


async def run_process_forever() -> None:
    await run_process_tasks()
    if settings.BACKGROUND_JOBS:
        await run_jobs_forever()


class JobsStarter:
    """ASGI wrapper that starts the process tasks and the periodic jobs once per process, at server start.

    Work left over from a previous process (alerts not yet sent, pre-orders due) is picked up right after
    a restart, before any request arrives. As a fallback the first request or socket starts them.
    """

    def __init__(self, application):
        self.application = application
        self.task: asyncio.Task | None = None
        self._schedule_at_startup()

    def _schedule_at_startup(self) -> None:
        # daphne imports the application before it runs its Twisted asyncio reactor, and that reactor's
        # loop is not the thread's current loop: queue the start on the reactor, which runs it on its loop.
        reactor = sys.modules.get("twisted.internet.reactor")
        if reactor is not None and hasattr(reactor, "callLater"):
            reactor.callLater(0, self._start)
        # Servers that speak the ASGI lifespan protocol (uvicorn, hypercorn) start them in __call__.

    def _start(self) -> None:
        if self.task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an asyncio loop (a non-asyncio reactor): the first request starts them
            return
        self.task = loop.create_task(run_process_forever())

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.task is not None:
                    self.task.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if self.task is None:
            self._start()
        return await self.application(scope, receive, send)
