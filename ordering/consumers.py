"""The customer's table tab socket: snapshot on connect, then the table's and the menu's events."""

import threading

from channels.db import database_sync_to_async

from ordering import events, selectors
from ordering.errors import NotFound
from ordering.menu import menu_current
from ordering.serializers import CartSerializer, TableSerializer, order_render
from realtime.consumers import EventConsumer

# The orders and cart of snapshots, kept per process by (table, feed seq): every change of them is an event
# of the table's feed, so what is kept is the tab for as long as the seq has not moved. The table's row, which
# the admin can rename (orders show its name) or delete without an event, is read every time. When every phone
# reconnects at once (a Wi-Fi blip) the phones of one table share one read of its tab. No clock: entries
# bounded in time expired behind the backlog of a storm on a slow host, and each expiry made it longer. A
# database restored or edited by hand under a running app is not seen here (nor by the numbered feeds):
# docs/operations.md says to stop the app for it.
_tabs: dict[str, tuple[tuple[int, str], list[dict], int, dict]] = {}  # feed -> ((seq, name), orders, spent, cart)
_tabs_lock = threading.Lock()


def _table_snapshot(table_id, feed: str) -> dict:
    # First: the tab read after them is at least as new as this seq.
    table, seq = selectors.table_with_feed_seq(table_id=table_id, feed=feed)
    kept = _tabs.get(feed)
    if kept is None or kept[0] != (seq, table.name):
        orders = selectors.table_tab_of(table)  # each naming the row the entry is keyed by
        kept = (
            (seq, table.name),
            [order_render(o) for o in orders],
            table.total_spent,
            CartSerializer(selectors.cart_of(table_id=table.pk)).data,
        )
        with _tabs_lock:
            if len(_tabs) > 5000:
                _tabs.clear()
            _tabs[feed] = kept
    table.total_spent = kept[2]
    menu = menu_current()
    return {
        "seq": seq,
        "menu_version": menu.version,
        "table": TableSerializer(table).data,
        "orders": kept[1],
        "foods": menu.foods,
        "cart": kept[3],
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
                self.scope["url_route"]["kwargs"]["table_id"], missing=selectors.table_not_found
            )
            feed = events.table_group(table_id)
            await self.join([feed, events.GROUP_MENU])
            snapshot = await table_snapshot(table_id, feed)
        except NotFound:
            return await self.close(code=4404)
        await self.send_snapshot(**snapshot)
