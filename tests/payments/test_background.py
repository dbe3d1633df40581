"""The periodic jobs' starter also speaks the ASGI lifespan protocol (uvicorn, hypercorn).

Under daphne, which has no lifespan, tests/payments/test_served.py proves they start with the server.
"""

import asyncio

from background.jobs import JobsStarter


async def started(starter: JobsStarter) -> tuple[asyncio.Task, asyncio.Queue, list[dict]]:
    """The starter's lifespan, told the server started: (its task, its inbox, what it sent)."""
    inbox: asyncio.Queue = asyncio.Queue()
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    lifespan = asyncio.create_task(starter({"type": "lifespan"}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    for _ in range(100):
        if sent:
            break
        await asyncio.sleep(0.01)
    return lifespan, inbox, sent


async def test_the_jobs_start_and_stop_with_the_asgi_lifespan(settings):
    settings.BACKGROUND_JOBS = True
    settings.BACKGROUND_JOBS_INTERVAL = 0.05
    starter = JobsStarter(application=None)
    lifespan, inbox, sent = await started(starter)

    assert sent == [{"type": "lifespan.startup.complete"}]
    assert starter.task is not None and not starter.task.done()

    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, timeout=5)
    await asyncio.gather(starter.task, return_exceptions=True)

    assert sent[-1] == {"type": "lifespan.shutdown.complete"}
    assert starter.task.cancelled()


async def test_no_jobs_when_they_are_switched_off_only_the_process_tasks_run(settings):
    settings.BACKGROUND_JOBS = False
    starter = JobsStarter(application=None)
    lifespan, inbox, sent = await started(starter)
    # The process tasks (the relay, heartbeats, the menu's group) start at once; no job loop follows them.
    await asyncio.wait_for(starter.task, timeout=5)
    assert starter.task.exception() is None

    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(lifespan, timeout=5)
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]
