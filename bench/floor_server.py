"""The floor for WebSocket fan-out: a bare `websockets` server fed by one Redis pub/sub subscription.

    uv run python bench/floor_server.py --port 8765 --channel bench-floor

Every message published on the channel is forwarded as-is to every connected socket (websockets'
`broadcast`: one encoded frame, written to each socket without waiting). No Django, no channel layer, no
per-socket serialization: what the same machine, Python and Redis can do at best. Prints `READY <port>`
when it listens; stops on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import signal

import redis.asyncio as aioredis
from websockets.asyncio.server import broadcast, serve


async def main(port: int, redis_url: str, channel: str) -> None:
    clients: set = set()

    async def handler(ws):
        clients.add(ws)
        try:
            async for _ in ws:  # the bench clients send nothing; keep the socket until it closes
                pass
        finally:
            clients.discard(ws)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    client = aioredis.from_url(redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)

    async def forward():
        async for message in pubsub.listen():
            if message and message.get("type") == "message":
                data = message["data"]
                broadcast(clients, data.decode() if isinstance(data, bytes) else data)

    forwarder = asyncio.create_task(forward())
    async with serve(handler, "127.0.0.1", port, ping_interval=None, compression=None, max_queue=16):
        print(f"READY {port}", flush=True)
        await stop
    forwarder.cancel()
    await pubsub.aclose()
    await client.aclose()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    p.add_argument("--channel", default="bench-floor")
    args = p.parse_args()
    asyncio.run(main(args.port, args.redis_url, args.channel))
