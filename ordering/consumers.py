"""The customer's table tab socket: snapshot on connect, then the table's and the menu's events."""

from channels.db import database_sync_to_async

from ordering import events, selectors
from ordering.errors import NotFound
from ordering.menu import menu_current
from ordering.serializers import OrderSerializer, TableSerializer
from realtime.broadcast import feed_seqs
from realtime.consumers import EventConsumer


def _table_snapshot(table_id, feed: str) -> dict:
    seq = feed_seqs([feed])[feed]  # first: state read after it is at least as new as its seq
    table = selectors.table_get(table_id=table_id)
    menu = menu_current()
    return {
        "seq": seq,
        "menu_version": menu.version,
        "table": TableSerializer(table).data,
        "orders": OrderSerializer(selectors.table_tab_orders(table_id=table.pk), many=True).data,
        "foods": menu.foods,
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
