"""Events published to Redis from the request's own thread: every group of an event in one round trip.

With channels_redis's pub/sub layer, `group_send(group, message)` is one `PUBLISH` of the layer's
serialized message to the channel `<prefix>__group__<group>`, on the shard that the channel's name hashes
to; every process subscribed to that channel hands the message to its sockets in the group. Called from a
request's sync thread through `async_to_sync`, each of those publishes was one more trip to the event loop
and back, and inside the loop they waited on one lock per process (the shard's), behind every other
request's events, while the loop was busy serving connections: the request's thread, one of only
SYNC_THREADS, sat idle all that time.

Here the thread publishes by itself with redis-py's sync client: the same channel names, the same
serialization (the layer's own `serialize`), the same shard hash, one pipeline per shard, so an event for
a table and the kitchen costs one round trip and no trip to the loop. Connection pools are per process
and thread-safe, and reset themselves after a fork.

Only for `RedisPubSubChannelLayer` with plain hosts; any other layer (the in-memory default, Sentinel
hosts) goes through `group_send` as before. `tests/ws/test_layer_faults_and_processes.py` holds the two
ends together: an order published here reaches a socket subscribed through the layer in another process.
"""

import threading
import weakref

import redis
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.conf import settings

_publishers: "weakref.WeakKeyDictionary[object, GroupPublisher | None]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class GroupPublisher:
    def __init__(self, layer: RedisPubSubChannelLayer, hosts: list[dict], prefix: str, timeout: float):
        self.layer = layer
        self.prefix = prefix
        self.clients = [redis.Redis(connection_pool=_pool(host, timeout)) for host in hosts]

    def channel(self, group: str) -> str:
        return f"{self.prefix}__group__{group}"  # RedisPubSubLoopLayer._get_group_channel_name

    def send(self, groups: list[str], message: dict) -> None:
        data = self.layer.serialize(message)
        pipes: dict[int, redis.client.Pipeline] = {}
        for group in groups:
            channel = self.channel(group)
            shard = _consistent_hash(channel, len(self.clients))
            if shard not in pipes:
                pipes[shard] = self.clients[shard].pipeline(transaction=False)
            pipes[shard].publish(channel, data)
        for pipe in pipes.values():
            pipe.execute()


def _pool(host: dict, timeout: float) -> redis.ConnectionPool:
    host = dict(host)
    host.setdefault("socket_timeout", timeout)
    host.setdefault("socket_connect_timeout", timeout)
    address = host.pop("address", None)
    return redis.ConnectionPool.from_url(address, **host) if address else redis.ConnectionPool(**host)


def publisher_for(layer, timeout: float) -> GroupPublisher | None:
    """The sync publisher for this (default) channel layer, or None where it cannot publish alike."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    try:
        return _publishers[layer]
    except KeyError:
        pass
    with _lock:
        if layer not in _publishers:
            config = settings.CHANNEL_LAYERS["default"].get("CONFIG", {})
            hosts = decode_hosts(config.get("hosts"))
            plain = all("master_name" not in host and "sentinels" not in host for host in hosts)
            _publishers[layer] = GroupPublisher(layer, hosts, config.get("prefix", "asgi"), timeout) if plain else None
        return _publishers[layer]
