"""The one seam to PayAction: webhook authentication, reading deliveries, and order registration."""

import hmac
import json
import re
import sys

import requests
from django.conf import settings
from django.utils import timezone

from background.outbox import Delivery, post_json
from ordering.models import Order


def webhook_key_valid(key: str | None, mall_id: str | None) -> bool:
    key_ok = hmac.compare_digest((key or "").encode(), settings.PAYACTION_WEBHOOK_KEY.encode())
    mall_ok = not settings.PAYACTION_MALL_ID or hmac.compare_digest(
        (mall_id or "").encode(), settings.PAYACTION_MALL_ID.encode()
    )
    return key_ok and mall_ok


# --- reading a delivery -------------------------------------------------------------------------------
#
# A delivery is never lost for what is inside it (CONTRACT.md section 6): Python's json module already
# reads NaN, Infinity, 1e400 (as inf) and lone surrogates ("\ud800"); what it refuses or cannot reach
# (integers past int's digit limit, nesting deeper than the stack) is read here too. Only text that is
# not JSON at all raises ValueError.

STORED_DEPTH = 16  # MariaDB's JSON_VALID refuses 32 levels of nesting; PayAction sends one


def _parse_int(digits: str) -> int | float:
    """Past int's digit limit json.loads would refuse the body; as a float it is ±inf, like 1e400."""
    limit = sys.get_int_max_str_digits()
    return int(digits) if not limit or len(digits.lstrip("-")) <= limit else float(digits)


# One token of JSON: punctuation, or a string or bare scalar that json.loads itself then checks.
_TOKEN = re.compile(r'[ \t\n\r]*(?:([\[\]{},:])|("(?:[^"\\]|\\.)*"|[^ \t\n\r\[\]{},:"]+))', re.DOTALL)


def _loads_without_recursion(text: str):
    """json.loads with an explicit stack, for nesting deeper than the interpreter's."""
    stack: list[list | dict] = []  # open containers
    keys: list[str] = []  # the key waiting for its value, per open object
    root, state, pos = None, "value", 0  # state: value, first_value, key, first_key, colon, next

    def place(value):
        nonlocal root
        if not stack:
            root = value
        elif isinstance(stack[-1], list):
            stack[-1].append(value)
        else:
            stack[-1][keys.pop()] = value

    while True:
        if state == "next" and not stack:
            if text[pos:].strip(" \t\n\r"):
                raise json.JSONDecodeError("Extra data", text, pos)
            return root
        match = _TOKEN.match(text, pos)
        if match is None:
            raise json.JSONDecodeError("Expecting a value", text, pos)
        punct, scalar = match.groups()
        pos = match.end()
        closes = {"]": list, "}": dict}.get(punct)
        if closes and stack and isinstance(stack[-1], closes) and state in ("next", "first_value", "first_key"):
            stack.pop()
            state = "next"
        elif state == "colon" and punct == ":":
            state = "value"
        elif state == "next" and punct == "," and stack:
            state = "key" if isinstance(stack[-1], dict) else "value"
        elif state in ("key", "first_key") and scalar and scalar.startswith('"'):
            keys.append(json.loads(scalar))
            state = "colon"
        elif state in ("value", "first_value") and punct in ("[", "{"):
            container = [] if punct == "[" else {}
            place(container)
            stack.append(container)
            state = "first_value" if punct == "[" else "first_key"
        elif state in ("value", "first_value") and scalar:
            place(json.loads(scalar, parse_int=_parse_int))
            state = "next"
        else:
            raise json.JSONDecodeError("Unexpected token", text, match.start())


def delivery_read(raw_body: bytes) -> tuple[str, object]:
    """The body as text and as JSON. Surrogates sent as raw UTF-8 bytes are read like their JSON escapes; a
    byte order mark some senders put first is not part of the JSON."""
    text = raw_body.decode("utf-8", "surrogatepass").removeprefix("\ufeff")
    try:
        return text, json.loads(text, parse_int=_parse_int)
    except RecursionError:
        return text, _loads_without_recursion(text)


def _nesting_within(value, limit: int) -> bool:
    """Level by level, not recursively: a body nested past Python's stack is measured too."""
    level = [value]
    for _ in range(limit + 1):
        containers = [v for v in level if isinstance(v, dict | list)]
        if not containers:
            return True
        level = [child for c in containers for child in (c.values() if isinstance(c, dict) else c)]
    return False


def delivery_stored(text: str, body) -> dict:
    """PaymentEvent.raw: the body if it is an object MariaDB and SQLite keep as JSON, else {"unparsed": its
    text} for staff."""
    # JSON columns refuse NaN/inf, lone surrogates (utf8mb4 has no U+D800) and 32 levels of nesting; the text
    # is a plain JSON string, which both accept, and reading it back shows exactly what PayAction sent.
    if isinstance(body, dict) and _nesting_within(body, STORED_DEPTH):
        try:
            json.dumps(body, allow_nan=False, ensure_ascii=False).encode("utf-8")
        except ValueError:  # NaN or inf; a lone surrogate (UnicodeEncodeError)
            pass
        else:
            return body
    # Surrogates that came as raw bytes are kept as their JSON escapes: utf8mb4 cannot hold them.
    return {"unparsed": text.encode("utf-8", "backslashreplace").decode("utf-8")}


def registration_body(order: Order) -> dict:
    return {
        "order_number": order.order_number,
        "order_amount": order.total_amount,
        "order_date": timezone.localtime(order.order_date).isoformat(timespec="seconds"),
        "billing_name": order.payer_name,
        "orderer_name": order.payer_name,
    }


def _accepted(response: requests.Response) -> bool:
    """PayAction can answer 200 with {"status": "error", ...}: that order was not registered."""
    try:
        body = response.json()
    except ValueError:
        return True  # an empty or non-JSON 2xx: nothing says it failed
    return not (isinstance(body, dict) and body.get("status") == "error")


def register_order(order: Order) -> Delivery:
    return post_json(
        f"{settings.PAYACTION_API_URL}/order",
        registration_body(order),
        headers={"x-api-key": settings.PAYACTION_API_KEY, "x-mall-id": settings.PAYACTION_MALL_ID},
        accept=_accepted,
    )
