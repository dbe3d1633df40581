"""Keys that other apps add to a feed's snapshot (the staff feed: payments' deliveries needing attention), so
that the app serving a socket need not import every app whose data the screen shows: dependencies keep
pointing one way (kitchen and payments -> ordering -> realtime)."""

from collections.abc import Callable

_parts: dict[str, list[Callable[[], dict]]] = {}


def provide(feed: str, part: Callable[[], dict]) -> None:
    """Add `part()`'s keys to `feed`'s snapshots; it runs where the snapshot is read (a sync thread)."""
    _parts.setdefault(feed, []).append(part)


def parts(feed: str) -> dict:
    found: dict = {}
    for part in _parts.get(feed, []):
        found.update(part())
    return found
