"""The served process's HTTP around Django, as ASGI middleware (the ASGI spec is the extension point).

- RequestLog: every request's id (a proxy's X-Request-ID, else a new one) on its log lines and its answer,
  and one access line per request.
- BodyLimit: bodies over MAX_REQUEST_BODY_BYTES are refused with 413 while they arrive, chunked or not,
  before Django spools them.
- KeptAnswers: Django's own answer to a plain read of one path, replayed while the data behind it is
  unchanged (the menu: every phone reads it, the same bytes until staff change a dish).
- WSGIOnThreads: Django's HTTP handling in one trip to a fixed set of long-lived threads.
"""

import asyncio
import gc
import io
import logging
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, async_to_sync, sync_to_async
from django.conf import settings

from core.logging import request_id_var

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("core.access")

HEALTH_PATH = "/healthz"


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value
    return None


class RequestLog:
    """Outermost: the request id travels in a context variable, which Django's threads inherit.

    The access line (ACCESS_LOG, on with JSON logs) has method, path (never the query string, which may
    carry a token), status and duration.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        rid = (_header(scope, b"x-request-id") or b"").decode("latin1")[:64] or uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        started, status = time.monotonic(), None

        async def tagged(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode("latin1"))]}
            await send(message)

        try:
            await self.application(scope, receive, tagged)
        finally:
            if settings.ACCESS_LOG and status is not None:
                access_logger.log(
                    logging.DEBUG if scope["path"] == HEALTH_PATH else logging.INFO,  # probed every few seconds
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    },
                )
            request_id_var.reset(token)


TOO_LARGE = '{"code": "payload_too_large", "detail": "요청 본문이 너무 큽니다 (최대 %dKB)."}'


class BodyLimit:
    """Refuses a body over MAX_REQUEST_BODY_BYTES (or the path's own, REQUEST_BODY_BYTES_BY_PATH): at once when
    Content-Length says so, else (chunked) as soon as what arrived passes it. The admin is exempt (its forms
    may be large)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith("/admin/"):
            return await self.application(scope, receive, send)
        limit = settings.REQUEST_BODY_BYTES_BY_PATH.get(scope["path"], settings.MAX_REQUEST_BODY_BYTES)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._refuse(send, limit)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.application(scope, counted, send)
        except _TooLarge:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send, limit: int) -> None:
        body = (TOO_LARGE % (limit // 1024)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


# Conditions other than If-None-Match: Django decides them (412, 304 by date, a range).
OTHER_CONDITIONS = (b"if-match", b"if-unmodified-since", b"if-modified-since", b"if-range")


class KeptAnswers:
    """Replays Django's answer to a plain `GET path` while `current(query)` still names the same data.

    `current(query_string)` returns the ETag the answer would carry now, or None when that is not known
    without the database (or the query is not one to keep). Django's answer is kept with its own ETag and
    replayed, headers and body, while the two are equal: the cache has no clock of its own, the data's
    owner decides (for the menu, ordering.menu). Only plain reads: no Authorization (a bad token must get
    its 401), no Origin (CORS answers depend on it). A browser revalidating its copy sends If-None-Match
    with the ETag it has: when that is not the current one Django would answer the whole current body, so
    the kept answer is replayed; the current one (304) and any other condition go to Django. Answers are
    kept per Host, so a Host that Django refuses (ALLOWED_HOSTS) is never answered here.

    One trip to Django at a time per query and state of the data: `state()` moves with every change (the
    menu's generation). A read that finds a trip under way, started in the state it finds, waits for that
    trip's answer on the event loop instead of queueing for a thread: a burst of phones right after a change
    costs one render, and the threads stay free for orders.
    """

    MAX_KEPT = 16  # answers (host, query); more hosts than that (ALLOWED_HOSTS=*) are answered by Django

    def __init__(self, application, *, path: str, current: Callable[[bytes], str | None], state: Callable[[], object]):
        self.application = application
        self.path = path
        self.current = current
        self.state = state
        self.answers: dict[tuple, tuple[bytes, list, bytes]] = {}  # (host, query) -> (etag, headers, body)
        self.trips: dict[tuple, tuple[object, asyncio.Future]] = {}  # (host, query) -> (state, answer or None)

    def _condition(self, scope) -> tuple[bool, bytes | None]:
        """Whether the read may be answered here, and the ETag its If-None-Match names."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != self.path:
            return False, None
        conditions = []
        for name, value in scope["headers"]:
            if name in (b"authorization", b"origin") or name in OTHER_CONDITIONS:
                return False, None
            if name == b"if-none-match":
                conditions.append(value)
        if not conditions:
            return True, None
        single = conditions[0]
        strong = len(single) > 2 and single[:1] == single[-1:] == b'"' and single.count(b'"') == 2
        return len(conditions) == 1 and strong, single

    async def __call__(self, scope, receive, send):
        plain, condition = self._condition(scope)
        if not plain:
            return await self.application(scope, receive, send)
        query = scope.get("query_string", b"")
        key = (_header(scope, b"host"), query)
        etag = self._current(query)
        kept = self.answers.get(key)
        if etag is not None and kept is not None and kept[0] == etag:
            if condition == kept[0]:  # the browser has it: Django answers 304
                return await self.application(scope, receive, send)
            return await self._replay(send, kept)
        state = self.state()
        trip = self.trips.get(key)
        if trip is not None and trip[0] == state:
            kept = await asyncio.shield(trip[1])
            if kept is not None and condition != kept[0]:
                return await self._replay(send, kept)
            return await self.application(scope, receive, send)
        answer = asyncio.get_running_loop().create_future()
        self.trips[key] = (state, answer)
        try:
            await self.application(scope, receive, self._recorder(key, send, answer))
        finally:
            if not answer.done():
                answer.set_result(None)
            if self.trips.get(key) == (state, answer):
                del self.trips[key]

    def _current(self, query: bytes) -> bytes | None:
        etag = self.current(query)
        return None if etag is None else etag.encode("latin1")

    @staticmethod
    async def _replay(send, kept: tuple[bytes, list, bytes]) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": kept[1]})
        await send({"type": "http.response.body", "body": kept[2]})

    def _recorder(self, key: tuple, send, answer: asyncio.Future):
        start: dict = {}
        whole = True  # an answer sent in parts (streamed) is not kept

        async def recording_send(message):
            nonlocal whole
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body" and message.get("more_body"):
                whole = False
            elif message["type"] == "http.response.body" and whole and start.get("status") == 200:
                headers = start["headers"]
                names = {name.lower(): value for name, value in headers}
                etag = names.get(b"etag")
                if etag is not None and b"set-cookie" not in names:  # never someone's own answer
                    shared = (etag, headers, message.get("body", b""))
                    if not answer.done():
                        answer.set_result(shared)  # for the reads that came during this trip
                    # Kept only if current (not one per made-up query string), and for a bounded set of hosts.
                    room = key in self.answers or len(self.answers) < self.MAX_KEPT
                    if room and self._current(key[1]) == etag:
                        self.answers[key] = shared
            await send(message)

        return recording_send


class WSGIOnThreads:
    """Django's HTTP handling in one trip to one of SYNC_THREADS long-lived threads, per request.

    Every view here is sync. Django's ASGI handler runs a sync stack as several trips between the event
    loop and a thread per request (request signals, the middleware stack, process_view, the view, closing),
    each costing more CPU than our views' own logic, and on a new thread, so with a new database connection,
    per request. Django's WSGI handler (get_wsgi_application, PEP 3333) runs the same stack in one call; this
    ASGI application reads the body on the event loop, runs that call and reads the answer in one
    `sync_to_async` trip on a borrowed single-thread executor (asgiref's `ThreadSensitiveContext(executor=)`),
    and sends the answer from the loop. Threads and their persistent connections live as long as the
    process; at most SYNC_THREADS requests run Django at once, the others wait on the loop. Answers larger
    than STREAM_AFTER_BYTES (a streamed CSV) are sent chunk by chunk from the thread as they are made.
    """

    STREAM_AFTER_BYTES = 1 << 20

    def __init__(self, wsgi_application, *, threads: int):
        self.wsgi_application = wsgi_application
        self.executors = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sync-{n}") for n in range(threads)]
        self.idle: asyncio.Queue | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"WSGIOnThreads serves HTTP only, not {scope['type']}")
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.idle is None:  # made on the server's loop, at the first request
            self.idle = asyncio.Queue()
            for executor in self.executors:
                self.idle.put_nowait(executor)
        executor = await self.idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                answer = await sync_to_async(self._respond, thread_sensitive=True)(scope, bytes(body), send)
        finally:
            self.idle.put_nowait(executor)
        if answer is not None:  # not streamed from the thread
            start, content = answer
            await send(start)
            await send({"type": "http.response.body", "body": content})

    def _respond(self, scope, body: bytes, send):
        """In the borrowed thread: the whole WSGI call; the answer, or None once it was streamed."""
        started: dict = {}

        def start_response(status, headers, exc_info=None):
            started["start"] = {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers],
            }

        result = self.wsgi_application(wsgi_environ(scope, body), start_response)
        try:
            chunks, size, sync_send = [], 0, None
            for chunk in result:
                if sync_send is not None:
                    sync_send({"type": "http.response.body", "body": chunk, "more_body": True})
                    continue
                chunks.append(chunk)
                size += len(chunk)
                if size > self.STREAM_AFTER_BYTES:
                    sync_send = async_to_sync(send)
                    sync_send(started["start"])
                    sync_send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django's request_finished: the request's database work is tidied up here
        if sync_send is not None:
            sync_send({"type": "http.response.body", "body": b""})
            return None
        return started["start"], b"".join(chunks)


def wsgi_environ(scope, body: bytes) -> dict:
    """The PEP 3333 environ of an ASGI HTTP scope whose whole body has been read."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode().decode("latin1"),
        "PATH_INFO": scope["path"].encode().decode("latin1"),  # WSGI's "bytes as latin-1" strings
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),  # also for a chunked body, read whole by now
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1").lower()
        if name == "content-length" or "_" in name:  # an underscore would alias a dashed header
            continue
        key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin1")
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ


def tune_gc() -> None:
    """The served process's garbage collector: what startup loaded (Django, the apps) is frozen out of its
    passes, and young collections run every GC_THRESHOLDS[0] allocations, not 700, so that no pass over
    the whole heap stalls the event loop under load (see docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*settings.GC_THRESHOLDS)
