"""Frames of any size or nesting depth (CONTRACT.md section 5): an `error` answer, and the socket stays open."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from websockets.sync.client import connect as ws_connect

from config.asgi import application
from tests.factories import TableFactory
from tests.servers import Daphne, test_database_url

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3
DEPTH = 50_000  # far past Python's recursion limit, far below the message size limit

FRAMES = [
    pytest.param("[" * DEPTH, id="unclosed-lists"),
    pytest.param("[" * DEPTH + "]" * DEPTH, id="closed-lists"),
    pytest.param('{"a":' * DEPTH, id="unclosed-objects"),
    pytest.param('{"type": "ping", "x": ' + "[" * DEPTH + "]" * DEPTH + "}", id="ping-with-deep-payload"),
]


async def open_table_socket() -> WebsocketCommunicator:
    table = await sync_to_async(TableFactory)()
    communicator = WebsocketCommunicator(application, f"/ws/tables/{table.pk}/")
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "snapshot"
    return communicator


@pytest.mark.parametrize("frame", FRAMES)
async def test_a_deeply_nested_frame_gets_an_error_and_the_socket_stays_open(frame):
    communicator = await open_table_socket()

    await communicator.send_to(text_data=frame)
    answer = await communicator.receive_output(timeout=TIMEOUT)

    assert answer["type"] == "websocket.send", answer  # not websocket.close (1011)
    message = json.loads(answer["text"])
    assert message["type"] == "error" and isinstance(message["code"], str) and message["ts"]

    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "pong"
    await communicator.disconnect()


async def test_a_nested_frame_python_can_read_is_answered_as_usual():
    communicator = await open_table_socket()

    await communicator.send_to(text_data="[" * 500 + "]" * 500)
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "error"
    await communicator.send_to(text_data='{"type": "ping", "x": ' + "[" * 500 + "]" * 500 + "}")
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["type"] == "pong"
    await communicator.disconnect()


@pytest.mark.integration
def test_a_served_socket_answers_messages_past_daphnes_own_1_mib_limit_and_stays_open():
    # make dev and the image raise daphne's limit (1 MiB: a bigger message dropped the connection, 1006).
    table = TableFactory()
    env = {"DATABASE_URL": test_database_url(), "REDIS_URL": "", "DEBUG": "1", "BACKGROUND_JOBS": "0"}
    with (
        Daphne(env=env) as server,
        ws_connect(f"{server.ws_url}/ws/tables/{table.pk}/", max_size=None, open_timeout=5) as socket,
    ):
        assert json.loads(socket.recv(timeout=5))["type"] == "snapshot"
        for text in ("x" * (2 << 20), "[" * (15 << 20), json.dumps({"type": "ping", "pad": "x" * (4 << 20)})):
            socket.send(text)
            answer = json.loads(socket.recv(timeout=10))
            assert answer["type"] == ("pong" if text.startswith('{"type": "ping"') else "error"), answer
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=5))["type"] == "pong"
