"""The served process's event loop: Daphne's TCP writes sent at once, and the garbage collector tuned.

Daphne serves on Twisted, whose TCP transport never writes in `write()`: it buffers the bytes, registers
the socket with the event loop for writability (an `epoll_ctl`), sends them on a later turn of the loop and
unregisters the socket (another `epoll_ctl`). For a sold-out switch sent to 1,000 phones that was about
100 us of the event loop per socket, most of the fan-out's time, and every frame waited until all the
others had been framed. asyncio's own transports (and the `websockets` floor of `bench/ws_fanout.py`)
try the socket first; this gives Twisted's TCP connections that behaviour: when the connection's buffer
is empty, `write()` sends at once, and only what the kernel does not take is buffered the usual way.

Anything unusual keeps Twisted's own path: TLS, a connection that is closing, data already waiting (its
order must hold), and any error from the send, which the buffered path reports as it always has.

`writeSequence()` takes the same path: Twisted's HTTP writes every response's status line and headers with
it, so until it did, each HTTP response (headers, then its body behind them) waited for a turn of the loop
and cost the two `epoll_ctl`s. Twisted's HTTP connections set TCP_NODELAY, so the body's send right after
the headers' is not held back waiting for an acknowledgement.

Twisted also parses the Content-Type of every request with a body through the `email` package's header
machinery (to find form posts, which Daphne does not use): 2% of an order's CPU, for the one or two
content types a client ever sends. It is remembered per distinct header.
"""

import functools
import gc
import logging

from django.conf import settings
from twisted.internet import tcp
from twisted.web import http

logger = logging.getLogger(__name__)

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    buffered_write = tcp.Connection.write
    required = ("TLS", "connected", "disconnecting", "_writeDisconnected", "dataBuffer", "writeSomeData")
    if not all(hasattr(tcp.Connection, name) for name in required):
        logger.warning("twisted's TCP connection changed shape: writes stay buffered")
        return

    def write(self, data):
        if (
            data
            and not self.TLS
            and self.connected
            and not self.disconnecting
            and not self._writeDisconnected
            and not self.dataBuffer
            and not self._tempDataBuffer
        ):
            sent = self.writeSomeData(data)  # bytes sent, or a ConnectionLost the buffered path will report
            if isinstance(sent, int):
                if sent == len(data):
                    return
                data = data[sent:]
        buffered_write(self, data)

    def writeSequence(self, iovec):
        write(self, b"".join(iovec))  # the checks of Twisted's own writeSequence are write's

    tcp.Connection.write = write
    tcp.Connection.writeSequence = writeSequence
    if hasattr(http, "_parseContentType"):  # bytes in, bytes out: a pure function
        http._parseContentType = functools.lru_cache(maxsize=64)(http._parseContentType)
    _installed = True


def tune_gc() -> None:
    """Keep the garbage collector's passes short, so that none stalls the process for long.

    A full collection walks every tracked object: with 1,000 open sockets it took 90-190 ms, during which
    the process sends nothing. What the app loaded at startup (Django, DRF, the URL and model machinery)
    is frozen out of every pass.

    Every request leaves reference cycles behind (an order about 165 objects: DRF's request and view,
    serializer fields and their parents, model states), which only the collector frees, all at once, in
    one pass of the young generation. With a threshold of 50,000 each such pass freed about 40,000 objects
    and held the process for 40-110 ms, the long tail of the order p99; at 5,000 (GC_THRESHOLDS) the
    passes come ten times as often and take 2-13 ms. Reference counting frees all other garbage at once.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*settings.GC_THRESHOLDS)
