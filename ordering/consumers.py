"""The customer's table tab socket: snapshot on connect, then the table's and the menu's events."""

import threading
import time

from channels.db import database_sync_to_async
from django.conf import settings

from ordering import events, selectors
from ordering.errors import NotFound
from ordering.menu import menu_current
from ordering.serializers import CartSerializer, TableSerializer, order_render
from realtime.broadcast import feed_seqs
from realtime.consumers import EventConsumer

# The tab part of snapshots, kept per process by (table, feed seq): every change of a tab is an event of
# its feed, so a kept tab is the table's tab for as long as the seq has not moved. When every phone
# reconnects at once (a Wi-Fi blip) the phones of one table share one read. Bounded in time like the menu
# (a rename made around the app) and in size.
_tabs: dict[str, tuple[int, float, dict, list[dict], dict]] = {}
_tabs_lock = threading.Lock()


def _table_snapshot(table_id, feed: str) -> dict:
    seq = feed_seqs([feed])[feed]  # first: a tab read after it is at least as new as its seq
    kept = _tabs.get(feed)
    now = time.monotonic()
    if kept is None or kept[0] != seq or kept[1] < now:
        table, orders = selectors.table_tab(table_id=table_id)
        kept = (
            seq,
            now + settings.MENU_CACHE_SECONDS,
            TableSerializer(table).data,
            [order_render(o) for o in orders],
            CartSerializer(selectors.cart_of(table_id=table.pk)).data,  # its changes are events of the feed too
        )
        with _tabs_lock:
            if len(_tabs) > 5000:
                _tabs.clear()
            _tabs[feed] = kept
    menu = menu_current()
    return {
        "seq": seq,
        "menu_version": menu.version,
        "table": kept[2],
        "orders": kept[3],
        "foods": menu.foods,
        "cart": kept[4],
    }


# Not thread-sensitive: snapshots of many phones reconnecting at once run side by side on the loop's worker
# threads instead of queueing on the one thread that thread-sensitive calls share.
table_snapshot = database_sync_to_async(_table_snapshot, thread_sensitive=False)


class TableConsumer(EventConsumer):
    """/ws/tables/{table_id}/: the customer's tab. The table's UUID is the key: no login, no session."""

    async def connect(self):
        await self.accept()
        try:
            table_id = selectors.parse_uuid(
                self.scope["url_route"]["kwargs"]["table_id"], code="table_not_found", detail=""
            )
            feed = events.table_group(table_id)
            await self.join([feed, events.GROUP_MENU])
            snapshot = await table_snapshot(table_id, feed)
        except NotFound:
            return await self.close(code=4404)
        await self.send_snapshot(**snapshot)
