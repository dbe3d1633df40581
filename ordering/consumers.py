"""The customer's table tab socket: snapshot on connect, then the table's and the menu's events."""

from channels.db import database_sync_to_async

from ordering import events, selectors
from ordering.errors import NotFound
from ordering.menu import menu_current
from ordering.serializers import OrderSerializer, TableSerializer
from realtime.consumers import EventConsumer


@database_sync_to_async
def _table_snapshot(table_id) -> dict:
    table = selectors.table_get(table_id=table_id)
    menu = menu_current()
    return {
        "table": TableSerializer(table).data,
        "orders": OrderSerializer(selectors.table_tab_orders(table_id=table.pk), many=True).data,
        "foods": menu.foods,
        "menu_version": menu.version,
    }


class TableConsumer(EventConsumer):
    """/ws/tables/{table_id}/: the customer's tab. The table's UUID is the key."""

    async def connect(self):
        await self.accept()
        try:
            table_id = selectors.parse_uuid(
                self.scope["url_route"]["kwargs"]["table_id"], code="table_not_found", detail=""
            )
            await self.join([events.table_group(table_id), events.GROUP_MENU])
            snapshot = await _table_snapshot(table_id)
        except NotFound:
            return await self.close(code=4404)
        await self.send_snapshot(**snapshot)
