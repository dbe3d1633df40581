"""Twisted's TCP connection with config.transport's write-through, on a real socket pair.

The connection is Twisted's own class; only the reactor is a recorder (no event loop runs here), so each
test can see whether a write waited for the loop (addWriter) or went out at once.
"""

import socket

import pytest
from twisted.internet import error, tcp
from twisted.internet.protocol import Protocol
from twisted.web import http

from config import transport

transport.install()


class RecordingReactor:
    def __init__(self):
        self.writers = set()

    def addWriter(self, selectable):
        self.writers.add(selectable)

    def removeWriter(self, selectable):
        self.writers.discard(selectable)

    def addReader(self, selectable):
        pass

    def removeReader(self, selectable):
        pass

    def callLater(self, *args, **kwargs):
        raise AssertionError("not expected")


class LostRecorder(Protocol):
    pass


@pytest.fixture
def pair():
    ours, peer = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    reactor = RecordingReactor()
    protocol = LostRecorder()
    connection = tcp.Connection(ours, protocol, reactor=reactor)
    connection.connected = True
    protocol.makeConnection(connection)
    peer.settimeout(2)
    yield connection, peer, reactor, protocol
    ours.close()
    peer.close()


def drain(peer, size: int) -> bytes:
    received = b""
    while len(received) < size:
        received += peer.recv(size - len(received))
    return received


def test_a_write_to_an_idle_connection_is_sent_at_once(pair):
    connection, peer, reactor, _ = pair

    connection.write(b'{"type":"food.updated"}')

    assert reactor.writers == set()  # nothing left for the event loop
    assert drain(peer, 23) == b'{"type":"food.updated"}'


def test_a_write_sequence_to_an_idle_connection_is_sent_at_once(pair):
    connection, peer, reactor, _ = pair  # as Twisted's HTTP writes a response's status line and headers

    connection.writeSequence([b"HTTP/1.1 201 Created\r\n", b"Content-Length: 2\r\n", b"\r\n"])
    connection.write(b"{}")

    assert reactor.writers == set()
    assert drain(peer, 45) == b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"


def test_a_write_sequence_behind_waiting_data_queues_in_order(pair):
    connection, peer, reactor, _ = pair
    first = bytes(range(256)) * 4096

    connection.write(first)
    connection.writeSequence([b"one", b"two"])

    received = b""
    while len(received) < len(first) + 6:
        received += peer.recv(65536)
        connection.doWrite()
    assert received == first + b"onetwo"
    assert reactor.writers == set()


def test_twisteds_content_type_parse_is_remembered_and_answers_the_same():
    parse = http._parseContentType
    parse.cache_clear()

    assert parse(b"application/json") == b"application/json"
    assert parse(b"Application/JSON; charset=utf-8") == b"application/json"
    assert parse(b"multipart/form-data; boundary=x") == b"multipart/form-data"
    assert parse(b"application/json") == b"application/json"
    assert parse.cache_info().hits == 1
    assert parse.__wrapped__(b"Application/JSON; charset=utf-8") == b"application/json"  # Twisted's own


def test_what_the_socket_does_not_take_is_buffered_and_sent_in_order(pair):
    connection, peer, reactor, _ = pair
    first = bytes(range(256)) * 4096  # 1 MiB, far more than the socket takes at once
    second = b"after"

    connection.write(first)
    assert reactor.writers == {connection}  # the rest waits for writability
    connection.write(second)  # data is waiting: this one must queue behind it, not jump ahead

    received = b""
    while len(received) < len(first) + len(second):
        received += peer.recv(65536)
        connection.doWrite()
    assert received == first + second
    assert reactor.writers == set()


def test_a_closing_connection_keeps_twisted_buffered_path(pair):
    connection, peer, reactor, _ = pair
    connection.disconnecting = True

    connection.write(b"late")

    assert reactor.writers == {connection}
    peer.setblocking(False)
    with pytest.raises(BlockingIOError):
        peer.recv(10)


def test_a_send_error_is_reported_as_a_lost_connection(pair):
    connection, peer, reactor, _ = pair
    peer.close()

    connection.write(b"to nobody")  # EPIPE from the send: buffered, as Twisted would have

    assert reactor.writers == {connection}
    # Twisted's own path finds the connection lost and tells the reactor (which then closes it)
    assert isinstance(connection.doWrite(), error.ConnectionLost)
