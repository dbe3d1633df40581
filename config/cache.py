"""Django's Redis cache with one connection pool and one client per process.

Django keeps one cache object per async context, and Daphne runs every request in a context of its own:
with the stock backend every request built a new `RedisCacheClient`, a new connection pool and a new TCP
connection to Redis (40% of a menu read's time was spent connecting), and every cache call a new
`redis.Redis` object. Here every cache object of the same configuration in the process shares one client
with its pools, and each pool one `redis.Redis`; both are thread-safe, and redis-py's pools reset
themselves after a fork.
"""

import asyncio
import logging
import threading
import weakref

import redis.asyncio as aioredis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)

_clients: dict[str, RedisCacheClient] = {}
_lock = threading.Lock()


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._redis = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._redis.get(index)
        if client is None:
            client = self._redis[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedRedisCacheClient

    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = repr((self._servers, sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client


_async_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, aioredis.Redis]]" = (
    weakref.WeakKeyDictionary()
)


async def aget_int(key: str) -> int | None:
    """An integer from the default cache without blocking the event loop (None: absent or unreadable).

    For the event loop's hot paths (config.edge): Django's own async cache calls go through a thread.
    """
    try:
        backend = caches["default"]
        if not isinstance(backend, RedisCache):
            return backend.get(key)  # this process's memory: no I/O
        # The same server and timeouts as the backend's own (sync) client.
        server = (
            backend._servers[0],
            backend._options.get("socket_timeout"),
            backend._options.get("socket_connect_timeout"),
        )
        loop = asyncio.get_running_loop()
        client = _async_clients.get(loop, {}).get(server)
        if client is None:
            client = aioredis.Redis.from_url(server[0], socket_timeout=server[1], socket_connect_timeout=server[2])
            _async_clients.setdefault(loop, {})[server] = client
        raw = await client.get(backend.make_and_validate_key(key))
        return None if raw is None else int(raw)
    except Exception:
        logger.warning("cache unavailable", exc_info=True)
        return None
