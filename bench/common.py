"""Shared pieces of the benchmarks: machine facts, the bench database, daphne processes, a small HTTP client.

Everything here talks to 127.0.0.1 only. Every loop that the benchmarks run is bounded both in count and in
time (see `Deadline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import resource
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
# The tree the servers run from: the repository itself, or a copy of it (BENCH_APP_DIR) so that edits made
# to the working tree while a long run is going cannot change the code under measurement halfway.
APP_DIR = Path(os.environ.get("BENCH_APP_DIR") or ROOT).resolve()

MYSQL_SERVER = os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
STAFF_USER = "bench-staff"
STAFF_PASSWORD = "bench-staff-pass-1234"


# --- machine ------------------------------------------------------------------------------------------


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


_SPIN = (
    "import time\nn, end = 0, time.perf_counter() + {seconds}\nwhile time.perf_counter() < end:\n    n += 1\nprint(n)"
)


def host_capacity(seconds: float = 1.0) -> float:
    """Millions of loop turns per second that two processes (one per core) get done right now.

    This machine is a VM on a shared host, and the same code under the same load ran up to 1.7x slower
    (and used as much more CPU per request) in some runs than in others, with nothing else running here:
    time the host takes away is charged to whatever ran. Taken before every phase, on the idle machine,
    so that a slow run can be told from a slow change; compare runs with the same capacity.
    """
    code = _SPIN.format(seconds=seconds)
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    turns = sum(int(p.communicate()[0]) for p in procs)
    return round(turns / seconds / 1e6, 2)


def code_version() -> dict:
    """Which code is measured: the commit of the tree the servers run from, and whether it has edits."""
    head = _run(["git", "-C", str(APP_DIR), "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", str(APP_DIR), "status", "--porcelain", "--untracked-files=no"])
    out = {"app_dir": str(APP_DIR), "git_head": head or "unknown", "uncommitted_changes": bool(dirty)}
    if dirty:
        import hashlib

        diff = subprocess.run(["git", "-C", str(APP_DIR), "diff", "HEAD"], capture_output=True, timeout=20).stdout
        out["diff_sha256"] = hashlib.sha256(diff).hexdigest()[:16]
    return out


def machine_info() -> dict:
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": _run(["nproc"]),
        "cpu_model": cpu_model(),
        "free_h": _run(["free", "-h"]),
        "uname_a": _run(["uname", "-a"]),
        "python": sys.version.split()[0],
        "load_avg_1_5_15": load_avg(),
        "code": code_version(),
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv]),
    }


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards `wanted` (bounded by the hard limit); return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, from /proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def pid_of(*names: str) -> int | None:
    """The first process whose name (comm) is one of `names`, e.g. the local MariaDB server."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    return int(entry.name)
            except OSError:
                continue
    return None


def rss_kib(pid: int) -> int:
    """Resident set size of a process, KiB (VmRSS from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# --- statistics ---------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float | None:
    """Linear-interpolated percentile (p in 0..100) of a list; None when empty."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    k = (len(data) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def summary_ms(seconds: list[float]) -> dict:
    """p50/p90/p99/max in milliseconds of a list of durations given in seconds."""
    ms = [s * 1000.0 for s in seconds]

    def r(x):
        return None if x is None else round(x, 1)

    return {
        "n": len(ms),
        "p50_ms": r(percentile(ms, 50)),
        "p90_ms": r(percentile(ms, 90)),
        "p99_ms": r(percentile(ms, 99)),
        "max_ms": r(max(ms) if ms else None),
    }


class Deadline:
    """A time bound for a loop: `while not deadline.passed(): ...`."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self.end

    def left(self) -> float:
        return max(0.0, self.end - time.monotonic())


# --- the bench database and environment ---------------------------------------------------------------


def mysql_available() -> None:
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        sys.exit("mysqlclient is missing: run `uv sync --frozen --extra mysql` once (the benchmarks serve on MariaDB).")


def _mysql_connect(database: str | None = None):
    import MySQLdb

    url = urlsplit(MYSQL_SERVER)
    kwargs = {"host": url.hostname or "127.0.0.1", "port": url.port or 3306, "user": url.username or "root"}
    if url.password:
        kwargs["passwd"] = url.password
    if database:
        kwargs["db"] = database
    return MySQLdb.connect(charset="utf8mb4", **kwargs)


def database_url(name: str) -> str:
    return f"{MYSQL_SERVER.rstrip('/')}/{name}"


def app_env(db_name: str, *, redis: bool = True, prefix: str = "bench", **extra: str) -> dict:
    """The environment of a served bench process (and of manage.py commands against the bench database)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db_name),
        "THROTTLE": "off",
        "DEBUG": "0",
        "SECRET_KEY": "bench",
        "BANK_ACCOUNT_NO": "100-200-300",  # pre-orders need an account to pay to with DEBUG off
        "BACKGROUND_JOBS": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SUPERUSER_USERNAME": STAFF_USER,
        "DJANGO_SUPERUSER_PASSWORD": STAFF_PASSWORD,
        # Redis pub/sub is not per database number: a prefix of our own keeps other users' layers apart.
        "CHANNEL_LAYER_PREFIX": prefix,
        "CACHE_KEY_PREFIX": prefix,
    }
    if os.environ.get("BENCH_CONN_MAX_AGE"):  # else the app's own (persistent, SYNC_THREADS per process)
        env["CONN_MAX_AGE"] = os.environ["BENCH_CONN_MAX_AGE"]
    if redis:
        env["REDIS_URL"] = REDIS_URL
    else:
        env.pop("REDIS_URL", None)
    for key in ("DISCORD_WEBHOOK_URL", "DISCORD_CALL_WEBHOOK_URL", "PAYACTION_API_KEY"):
        env.pop(key, None)
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 600) -> str:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def fresh_database(db_name: str, *, staff: bool = True) -> dict:
    """Drop and create `db_name`, migrate, seed the menu and tables, create the bench staff user."""
    mysql_available()
    if not db_name.startswith("bench_"):
        raise ValueError("the benchmarks only drop databases whose name starts with bench_")
    conn = _mysql_connect()
    try:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{db_name}`")
        cur.execute(f"CREATE DATABASE `{db_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()
    env = app_env(db_name)
    t0 = time.monotonic()
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_data")
    manage(env, "seed_tables")
    if staff:
        manage(env, "ensure_staff")
    return {"database": db_name, "setup_seconds": round(time.monotonic() - t0, 1)}


def sql(db_name: str, statement: str, params=None) -> list[tuple]:
    conn = _mysql_connect(db_name)
    try:
        cur = conn.cursor()
        cur.execute(statement, params)
        rows = list(cur.fetchall()) if cur.description else []
        conn.commit()
        return rows
    finally:
        conn.close()


# --- daphne -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Servers:
    """`count` daphne processes of the app on one port, its socket(s) pre-bound here and passed with --fd.

    Default: one listening socket shared by every process. reuseport=True: one SO_REUSEPORT socket each.
    nginx=True: each process on a port of its own, behind nginx on `port` (docker/nginx.conf's upstream:
    round robin per request over kept-alive upstream connections), as docker-compose's "scale" profile runs.
    """

    env: dict
    count: int = 1
    port: int = 0
    processes: list[subprocess.Popen] = field(default_factory=list)
    sock: socket.socket | None = None
    logs: list[Path] = field(default_factory=list)
    reuseport: bool = False
    nginx: bool = False
    extra_socks: list[socket.socket] = field(default_factory=list)
    proxy: subprocess.Popen | None = None

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(1024)
        return sock

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def start(self, timeout: float = 60.0) -> Servers:

        self.sock = self._listen(0 if self.nginx else self.port)
        # Shared: every process accepts from the one socket. Reuseport: each process gets a socket of its
        # own on the same port (SO_REUSEPORT) and the kernel spreads new connections over them by hash.
        # nginx: a socket each on ports of their own; nginx listens on the bench's port.
        if self.reuseport:
            socks = [self.sock] + [self._listen(self.sock.getsockname()[1]) for _ in range(self.count - 1)]
        elif self.nginx:
            socks = [self.sock] + [self._listen(0) for _ in range(self.count - 1)]
        else:
            socks = []
        self.extra_socks = socks[1:]
        if self.nginx:
            self.port = self.port or free_port()
            self.proxy = start_nginx(self.port, [sock.getsockname()[1] for sock in socks])
        else:
            self.port = self.sock.getsockname()[1]
        for i in range(self.count):
            fd = socks[i].fileno() if socks else self.sock.fileno()
            os.set_inheritable(fd, True)
            log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-daphne-{self.port}-{i}.log"
            self.logs.append(log_path)
            with open(log_path, "wb") as log:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "daphne", "--fd", str(fd), "config.asgi:application"],
                        cwd=APP_DIR,
                        env=self.env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        pass_fds=(fd,),
                    )
                )
        # Every process must be up (importing Django takes a while); probe until `count` answers have come
        # from processes that are still alive, then wait a little for a slower sibling.
        try:
            wait_healthy(self.url, self.processes, timeout, self.log_tail)
        except RuntimeError:
            self.stop()
            raise
        time.sleep(2.0 if self.count > 1 else 0.5)
        return self

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for sock in [self.sock, *self.extra_socks]:
            if sock is not None:
                sock.close()
        self.sock, self.extra_socks = None, []
        if self.proxy is not None:
            self.proxy.terminate()
            self.proxy.wait(10)
            shutil.rmtree(Path(self.proxy.args[2]).parent, ignore_errors=True)  # its config folder
            self.proxy = None

    def log_tail(self) -> str:
        out = []
        for path in self.logs:
            with contextlib.suppress(OSError):
                out.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(out)

    def __enter__(self) -> Servers:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream pub_app {{
{servers}
        keepalive 32;
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://pub_app;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
        }}
    }}
}}
"""


def wait_healthy(url: str, processes: list, timeout: float, log_tail) -> None:
    """Until `url`/healthz answers 200; RuntimeError if a process exits or the time runs out."""
    deadline = Deadline(timeout)
    while not deadline.passed():
        dead = [proc for proc in processes if proc.poll() is not None]
        if dead:
            raise RuntimeError(f"daphne exited ({dead[0].returncode}):\n{log_tail()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"daphne did not answer /healthz in {timeout}s:\n{log_tail()}")


def start_nginx(port: int, upstream_ports: list[int]) -> subprocess.Popen:
    """nginx (Debian's nginx-light) on 127.0.0.1:port in front of the given ports, as docker/nginx.conf."""
    import tempfile

    nginx = "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        sys.exit("nginx not found: apt-get install nginx-light")
    folder = tempfile.mkdtemp(prefix="bench-nginx-")
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstream_ports)
    conf = Path(folder) / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=folder, servers=servers, port=port))
    return subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.DEVNULL)


# --- a small keep-alive HTTP/1.1 client ----------------------------------------------------------------
# One connection per simulated client, so that the client side costs little CPU (the machine has 2 cores
# and the server needs them). It reads Content-Length and chunked bodies; that is all daphne sends.


class HttpError(Exception):
    pass


class Conn:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.headers: dict[str, str] = {}  # the last answer's, names in lower case
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None

    async def request(
        self, method: str, path: str, body: dict | bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        for attempt in (0, 1):  # one retry on a connection the server closed between requests
            if self.writer is None:
                await self._open()
            try:
                return await self._request(method, path, body, headers)
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt:
                    raise
        raise HttpError("unreachable")

    async def _request(self, method, path, body, headers) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if isinstance(body, dict | list) else body or b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        if payload or method in ("POST", "PATCH", "PUT"):
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        for key, value in (headers or {}).items():
            lines.append(f"{key}: {value}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin1") + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        hdrs = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        if "content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(parts)
        else:
            data = await self.reader.read()
            await self.close()
        if hdrs.get("connection", "").lower() == "close":
            await self.close()
        self.headers = hdrs
        return status, data


def conn_for(url: str) -> Conn:
    parts = urlsplit(url)
    return Conn(parts.hostname or "127.0.0.1", parts.port or 80)


async def api(url: str, method: str, path: str, body=None, headers=None, expect: int | None = None):
    """One request on a fresh connection; the decoded JSON body (checked against `expect`)."""
    conn = conn_for(url)
    try:
        status, data = await conn.request(method, path, body, headers)
    finally:
        await conn.close()
    if expect is not None and status != expect:
        raise HttpError(f"{method} {path}: {status} {data[:300]!r}")
    return json.loads(data) if data else None


async def staff_token(url: str) -> str:
    body = await api(url, "POST", "/api/auth/token/", {"username": STAFF_USER, "password": STAFF_PASSWORD}, expect=200)
    return body["token"]


# --- results ------------------------------------------------------------------------------------------


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    return path


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)
