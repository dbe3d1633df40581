"""The channel layer across processes (Redis) and when it fails."""

import json
import logging
import os

import pytest
import requests
from websockets.sync.client import connect as ws_connect

from ordering.models import Order
from tests.factories import FoodFactory, TableFactory
from tests.servers import Daphne, free_port, shared_layer_env


@pytest.mark.django_db(transaction=True)
def test_a_dead_channel_layer_never_fails_or_loses_an_order(api, settings, caplog):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]},  # nothing listens there
        }
    }
    table, food = TableFactory(), FoodFactory(stock=3)

    with caplog.at_level(logging.WARNING, logger="ordering.events"):
        response = api.post(
            "/api/orders/", {"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]}, format="json"
        )

    assert response.status_code == 201
    assert Order.objects.filter(pk=response.json()["id"], status="completed").exists()
    food.refresh_from_db()
    assert food.stock == 2
    assert any(record.getMessage() == "broadcast failed" for record in caplog.records)


@pytest.mark.integration
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI runs it on Redis + MariaDB)")
@pytest.mark.django_db(transaction=True)
def test_an_order_placed_on_one_process_reaches_a_socket_held_by_another():
    table, food = TableFactory(), FoodFactory()
    env = shared_layer_env()
    with (
        Daphne(env=env) as first,
        Daphne(env=env) as second,
        ws_connect(f"{second.ws_url}/ws/tables/{table.pk}/", open_timeout=5) as socket,
    ):
        snapshot = json.loads(socket.recv(timeout=5))
        assert snapshot["type"] == "snapshot" and snapshot["orders"] == []

        response = requests.post(
            f"{first.url}/api/orders/",
            json={"table_id": str(table.pk), "items": [{"food_id": food.pk, "quantity": 1}]},
            timeout=5,
        )
        assert response.status_code == 201, response.text

        event = json.loads(socket.recv(timeout=5))
        assert event["type"] == "order.created"
        assert event["order"]["id"] == response.json()["id"]
