"""Frames of any size or nesting depth (CONTRACT.md section 5): an `error` answer, and the socket stays open."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.factories import TableFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 3
DEPTH = 50_000  # far past Python's recursion limit, far below the frame size limit (64 KiB here)

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
