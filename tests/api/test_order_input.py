"""OrderInSerializer checks a well-formed order in plain Python (speed); every answer must be DRF's own.

DRF's answer is the one its declared fields give (Serializer.run_validation): for every input below, valid
or not, the serializer as used must give the same validated data or the same errors.
"""

import itertools
import random
import uuid

import pytest
from rest_framework import serializers

from ordering.serializers import MAX_DB_ID, OrderInSerializer, order_in_plain

TABLE = "8c6b5c36-2f6f-4a5a-9a43-6a1f1b0a4c11"

TABLE_IDS = [
    TABLE,
    TABLE.upper(),
    TABLE.replace("-", ""),
    "{" + TABLE + "}",
    "urn:uuid:" + TABLE,
    TABLE + "0",
    "not-a-uuid",
    "",
    5,
    True,
    None,
    [TABLE],
    uuid.UUID(TABLE).int,
]
NUMBERS = [
    1,
    2,
    3,
    98,
    99,
    100,
    0,
    -1,
    2.0,
    2.5,
    "2",
    True,
    False,
    None,
    [2],
    {"n": 2},
    MAX_DB_ID,
    MAX_DB_ID + 1,
    10**30,
]


class Declared(OrderInSerializer):
    """The same serializer without the plain path: what its declared fields answer."""

    run_validation = serializers.Serializer.run_validation


def drf(data) -> tuple:
    return answer(Declared(data=data))


def as_used(data) -> tuple:
    return answer(OrderInSerializer(data=data))


def answer(serializer) -> tuple:
    if serializer.is_valid():
        return "valid", dict(serializer.validated_data)
    return "invalid", serializer.errors


def line(food_id, quantity) -> dict:
    return {"food_id": food_id, "quantity": quantity}


def test_a_well_formed_order_takes_the_plain_path_with_drfs_answer():
    data = {"table_id": TABLE, "items": [line(3, 2), line(5, 1), line(3, 4)]}

    assert order_in_plain(data) == {"table_id": uuid.UUID(TABLE), "items": {3: 6, 5: 1}}
    assert as_used(data) == drf(data) == ("valid", order_in_plain(data))


@pytest.mark.parametrize("table_id", TABLE_IDS, ids=repr)
def test_every_table_id_gets_drfs_answer(table_id):
    data = {"table_id": table_id, "items": [line(1, 1)]}

    assert as_used(data) == drf(data)


@pytest.mark.parametrize(("food_id", "quantity"), list(itertools.product(NUMBERS, NUMBERS)), ids=repr)
def test_every_line_gets_drfs_answer(food_id, quantity):
    data = {"table_id": TABLE, "items": [line(1, 1), line(food_id, quantity)]}

    assert as_used(data) == drf(data)


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        "x",
        5,
        None,
        {"table_id": TABLE},
        {"items": [line(1, 1)]},
        {"table_id": TABLE, "items": []},
        {"table_id": TABLE, "items": None},
        {"table_id": TABLE, "items": "1"},
        {"table_id": TABLE, "items": line(1, 1)},
        {"table_id": TABLE, "items": [None]},
        {"table_id": TABLE, "items": [[1, 1]]},
        {"table_id": TABLE, "items": [{"food_id": 1}]},
        {"table_id": TABLE, "items": [{"quantity": 1}]},
        {"table_id": TABLE, "items": [{"food_id": 1, "quantity": 1, "note": "덜 맵게"}]},
        {"table_id": TABLE, "items": [line(1, 1)], "payer_name": "홍길동"},
        {"table_id": TABLE, "items": [line(n, 1) for n in range(1, 51)]},
        {"table_id": TABLE, "items": [line(n, 1) for n in range(1, 52)]},
        {"table_id": TABLE, "items": [line(7, 50), line(7, 49)]},
        {"table_id": TABLE, "items": [line(7, 50), line(7, 50)]},
        {"table_id": TABLE, "items": [line(1, 1)] * 50},
        {"table_id": TABLE, "items": [line(1, 2)] * 50},
    ],
    ids=repr,
)
def test_every_shape_of_body_gets_drfs_answer(data):
    assert as_used(data) == drf(data)


def test_random_orders_get_drfs_answer():
    """Mostly well-formed orders with now and then one bad value anywhere, as clients get them wrong."""
    rng = random.Random(20261127)
    plain = 0
    for _ in range(2000):
        lines = [line(rng.randint(1, 20), rng.randint(1, 60)) for _ in range(rng.randint(1, 55))]
        data = {"table_id": TABLE, "items": lines}
        if rng.random() < 0.3:
            data["table_id"] = rng.choice(TABLE_IDS)
        if rng.random() < 0.3:
            rng.choice(lines)[rng.choice(["food_id", "quantity"])] = rng.choice(NUMBERS)
        plain += order_in_plain(data) is not None
        assert as_used(data) == drf(data), data
    assert plain > 100  # the plain path was taken, not only DRF's
