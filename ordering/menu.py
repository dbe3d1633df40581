"""The menu every phone reads, kept rendered in each process.

`GET /api/foods/` and every socket snapshot read it, so it is rendered once per change, not per read: from
the database, when a food changes (in any process: the change's `food.updated` event reaches every process
through the channel layer, and the process that made it drops its copy on commit) and at the latest every
MENU_CACHE_SECONDS, which bounds how long a change made around the app (a seed command, SQL by hand) or an
event lost while Redis was away stays unseen.

Its ETags are hashes of what it answers, so every process holding the same menu gives the same ones. Its
version (`menu_version` of the sockets) hashes the foods' versions too, so it moves with every change,
even one that puts a food back as it was: a screen that heard only the first of the two reads it again.
"""

import asyncio
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework.renderers import JSONRenderer

from ordering.events import GROUP_MENU
from ordering.models import Category, Food
from ordering.serializers import FoodSerializer
from realtime.hub import hub

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Menu:
    foods: list[dict]
    bodies: dict[str, bytes]  # by category ("" for all): the JSON `GET /api/foods/` answers
    etags: dict[str, str]
    version: str
    fresh_until: float

    def body(self, category: str | None = None) -> bytes:
        return self.bodies[category or ""]

    def etag(self, category: str | None = None) -> str:
        return self.etags[category or ""]


_lock = threading.Lock()
_current: Menu | None = None
_generation = 0  # moves with every forget, so a render that raced a change is not kept


def _digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def _render() -> Menu:
    rows = list(Food.objects.all())
    foods = FoodSerializer(rows, many=True).data
    renderer = JSONRenderer()
    bodies = {"": renderer.render(foods)}
    for category in Category.values:
        bodies[category] = renderer.render([food for food in foods if food["category"] == category])
    etags = {key: f'"{_digest(body)}"' for key, body in bodies.items()}
    return Menu(
        foods=foods,
        bodies=bodies,
        etags=etags,
        version=_digest(bodies[""] + ",".join(f"{food.pk}.{food.version}" for food in rows).encode()),
        fresh_until=time.monotonic() + settings.MENU_CACHE_SECONDS,
    )


def menu_current() -> Menu:
    """The menu, rendered afresh if a change was announced or its seconds have passed (one query)."""
    global _current
    menu = _current
    if menu is not None and menu.fresh_until > time.monotonic():
        return menu
    generation = _generation
    menu = _render()
    with _lock:
        if generation == _generation:  # no change announced while reading: keep it for the next reads
            _current = menu
    return menu


REFRESH_SECONDS = 1.0
_refresh_claimed_until = 0.0


def menu_peek() -> Menu | None:
    """The kept menu without touching the database (for the event loop); None when it must be read.

    After a change (forgotten) every caller gets None until it is read again. Past its seconds, one caller
    gets None and reads it afresh, while the others keep the kept one meanwhile (for REFRESH_SECONDS at
    most), so a burst of phones never waits behind that one read.
    """
    global _refresh_claimed_until
    menu = _current
    if menu is None:
        return None
    now = time.monotonic()
    if menu.fresh_until > now:
        return menu
    with _lock:
        if _refresh_claimed_until <= now:
            _refresh_claimed_until = now + REFRESH_SECONDS
            return None
    return menu


def menu_generation() -> int:
    """Moves with every forget: a read of the menu started in one generation holds every change announced
    before it (core.serving.KeptAnswers lets the reads that come meanwhile share it)."""
    return _generation


def menu_forget() -> None:
    """A food changed: the next read renders the menu afresh."""
    global _current, _generation
    with _lock:
        _generation += 1
        _current = None


class _Follower:
    """A member of the menu's group in the process's hub: any food event drops the kept menu."""

    async def forward(self, text: str) -> None:
        menu_forget()


_follower = _Follower()


async def follow_changes() -> None:
    """A process task (settings.PROCESS_TASKS): joins the menu's group for the life of the process, in a task
    of its own, so that a Redis away at startup holds up neither the other tasks nor the periodic jobs."""
    asyncio.get_running_loop().create_task(_join_until_joined())


async def _join_until_joined() -> None:
    while True:
        try:
            await hub().join(GROUP_MENU, _follower)
            return
        except Exception:
            logger.warning("menu follower could not join; retrying", exc_info=True)
            menu_forget()
            await asyncio.sleep(1)


_CATEGORY_QUERIES = {b"": "", **{f"category={value}".encode(): value for value in Category.values}}


def menu_etag_for_query(query_string: bytes) -> str | None:
    """The ETag `GET /api/foods/?<query_string>` answers now, if known without the database (for
    core.serving.KeptAnswers); None for any other query or while the kept menu is not fresh."""
    category = _CATEGORY_QUERIES.get(query_string)
    menu = menu_peek()
    return None if category is None or menu is None else menu.etags[category]
