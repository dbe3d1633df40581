"""A client process for ws_fanout.py: holds many sockets and timestamps what arrives on them.

Not meant to be run by hand. Started with a list of socket URLs; it opens them (bounded concurrency,
bounded time), prints one JSON line per event on stdout and obeys commands on stdin:

    stdout {"event": "ready", "open": n, "failed": k, "seconds": s}
    stdout {"event": "round", "key": K, "count": n}      when every open socket has had the message of round K
    stdin  dump                                          -> {"event": "dump", "recv": {K: [t, ...]}, ...} and exit

A message belongs to round K when it is a `food.updated` whose food price is K (the benchmark changes the
price on every round). Arrival times are time.time() taken as soon as the message is read.
"""

import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect


def emit(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main(urls: list[str], concurrency: int, open_timeout: float, max_seconds: float) -> None:
    recv: dict[int, list[float]] = {}
    counts: dict[int, int] = {}
    sockets = []
    failed = 0
    errors: list[str] = []
    open_count = 0
    other_messages = 0

    async def reader(ws):
        nonlocal other_messages
        try:
            async for raw in ws:
                t = time.time()
                if '"food.updated"' not in raw:
                    other_messages += 1
                    continue
                key = json.loads(raw)["food"]["price"]
                recv.setdefault(key, []).append(t)
                counts[key] = counts.get(key, 0) + 1
                if counts[key] == open_count:
                    emit({"event": "round", "key": key, "count": counts[key]})
        except Exception as exc:  # a closed socket ends its reader; counted by the parent as missing
            if len(errors) < 5:
                errors.append(repr(exc))

    sem = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def open_one(url: str):
        nonlocal failed
        async with sem:
            try:
                ws = await connect(
                    url, open_timeout=open_timeout, ping_interval=None, compression=None, max_size=2**24, proxy=None
                )
                if "/ws/tables/" in url:
                    first = json.loads(await asyncio.wait_for(ws.recv(), open_timeout))  # the snapshot
                    if first.get("type") != "snapshot":
                        raise RuntimeError(f"first message {first.get('type')}")
                sockets.append(ws)
            except Exception as exc:
                failed += 1
                if len(errors) < 5:
                    errors.append(repr(exc))

    await asyncio.gather(*(open_one(u) for u in urls))
    open_count = len(sockets)
    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    emit(
        {
            "event": "ready",
            "open": open_count,
            "failed": failed,
            "errors": errors[:5],
            "seconds": round(time.monotonic() - started, 2),
        }
    )

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        line = await asyncio.wait_for(stdin.readline(), max_seconds)
    except TimeoutError:
        line = b"dump"
    emit(
        {
            "event": "dump",
            "recv": {str(k): v for k, v in recv.items()},
            "open": open_count,
            "other_messages": other_messages,
            "errors": errors[:5],
            "command": line.decode().strip(),
        }
    )
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--urls-file", required=True, help="one socket URL a line")
    p.add_argument("--concurrency", type=int, default=50, help="sockets being opened at once")
    p.add_argument("--open-timeout", type=float, default=30.0)
    p.add_argument("--max-seconds", type=float, default=900.0, help="dump and exit after this long regardless")
    args = p.parse_args()
    with open(args.urls_file) as f:
        url_list = [line.strip() for line in f if line.strip()]
    from common import raise_nofile

    raise_nofile(len(url_list) + 256)
    asyncio.run(main(url_list, args.concurrency, args.open_timeout, args.max_seconds))
