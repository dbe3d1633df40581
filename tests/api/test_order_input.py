"""OrderInSerializer accepts exactly the orders of CONTRACT.md section 4, merged, and refuses all else.

Every input below is judged twice: by the serializer, and by `contract()`, the rules written out again
in plain Python. They must agree on valid or not, and on the merged quantities.
"""

import itertools
import random
import re
import uuid

import pytest

from ordering.serializers import MAX_DB_ID, OrderInSerializer

TABLE = "8c6b5c36-2f6f-4a5a-9a43-6a1f1b0a4c11"

TABLE_IDS = [
    TABLE,
    TABLE.upper(),
    TABLE.replace("-", ""),
    "{" + TABLE + "}",
    "urn:uuid:" + TABLE,
    TABLE.translate({ord(d): chr(0xFF10 + int(d)) for d in "0123456789"}),  # full-width digits
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


def contract(data):
    """The merged quantities of a valid order, or None: the contract's input rules, read independently."""
    if not isinstance(data, dict) or not isinstance(data.get("table_id"), str):
        return None
    # A UUID as the API writes it, in either case: 8-4-4-4-12 ASCII hex digits (uuid.UUID() would also read
    # braces, "urn:uuid:", bare hex and full-width digits).
    if not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", data["table_id"]):
        return None
    lines = data.get("items")
    if not isinstance(lines, list) or not 1 <= len(lines) <= 50:
        return None
    merged = {}
    for line in lines:
        if not isinstance(line, dict):
            return None
        food_id, quantity = line.get("food_id"), line.get("quantity")
        for value, top in ((food_id, MAX_DB_ID), (quantity, 99)):
            if type(value) is not int or not 1 <= value <= top:
                return None
        merged[food_id] = merged.get(food_id, 0) + quantity
    return merged if max(merged.values()) <= 99 else None


def judged(data):
    serializer = OrderInSerializer(data=data)
    if not serializer.is_valid():
        assert serializer.errors  # a refusal always says which field
        return None
    assert serializer.validated_data["table_id"] == uuid.UUID(data["table_id"])
    return dict(serializer.validated_data["items"])


def line(food_id, quantity) -> dict:
    return {"food_id": food_id, "quantity": quantity}


def test_a_well_formed_order_is_valid_with_repeated_lines_merged():
    data = {"table_id": TABLE, "items": [line(3, 2), line(5, 1), line(3, 4)]}

    assert judged(data) == {3: 6, 5: 1}


@pytest.mark.parametrize("table_id", TABLE_IDS, ids=repr)
def test_every_table_id_is_judged_as_the_contract_says(table_id):
    data = {"table_id": table_id, "items": [line(1, 1)]}

    assert judged(data) == contract(data)


@pytest.mark.parametrize(("food_id", "quantity"), list(itertools.product(NUMBERS, NUMBERS)), ids=repr)
def test_every_line_is_judged_as_the_contract_says(food_id, quantity):
    data = {"table_id": TABLE, "items": [line(1, 1), line(food_id, quantity)]}

    assert judged(data) == contract(data)


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
def test_every_shape_of_body_is_judged_as_the_contract_says(data):
    assert judged(data) == contract(data)


def test_random_orders_are_judged_as_the_contract_says():
    """Mostly well-formed orders with now and then one bad value anywhere, as clients get them wrong."""
    rng = random.Random(20261127)
    valid = 0
    for _ in range(500):
        lines = [line(rng.randint(1, 20), rng.randint(1, 60)) for _ in range(rng.randint(1, 55))]
        data = {"table_id": TABLE, "items": lines}
        if rng.random() < 0.3:
            data["table_id"] = rng.choice(TABLE_IDS)
        if rng.random() < 0.3:
            rng.choice(lines)[rng.choice(["food_id", "quantity"])] = rng.choice(NUMBERS)
        expected = contract(data)
        valid += expected is not None
        assert judged(data) == expected, data
    assert valid > 20  # valid orders were among them, not only refusals
