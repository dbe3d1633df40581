"""Stand-ins for outside services (Discord, PayAction): real HTTP servers on 127.0.0.1.

Tests point DISCORD_WEBHOOK_URL / PAYACTION_API_URL at `server.url` and script the answers; every
request is recorded, so a test can assert exactly what reached the service and how often.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Answer:
    status: int = 204
    body: dict | None = None
    delay: float = 0.0  # seconds to wait before answering (a slow or timing-out service)


class FakeService:
    """A recording HTTP server. `answers` is a queue; when it is empty, `default` answers."""

    def __init__(self, default: Answer | None = None):
        self.default = default or Answer()
        self.answers: list[Answer] = []
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with service._lock:
                    service.requests.append(Recorded("POST", self.path, dict(self.headers), body))
                    answer = service.answers.pop(0) if service.answers else service.default
                if answer.delay:
                    time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self.answers.extend(answers)

    def received(self) -> list[Recorded]:
        with self._lock:
            return list(self.requests)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received()) >= count:
                return self.received()
            time.sleep(0.05)
        return self.received()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
