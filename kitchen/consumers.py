from channels.db import database_sync_to_async

from ordering import events, selectors
from ordering.menu import menu_current
from ordering.serializers import order_render
from realtime.broadcast import feed_seqs
from realtime.consumers import EventConsumer


@database_sync_to_async
def _kitchen_snapshot() -> dict:
    seq = feed_seqs([events.GROUP_KITCHEN])[events.GROUP_KITCHEN]  # first: the state read after is as new
    menu = menu_current()
    return {
        "seq": seq,
        "menu_version": menu.version,
        "orders": [order_render(order) for order in selectors.kitchen_open_orders()],
        "foods": menu.foods,
    }


@database_sync_to_async
def _is_staff(user) -> tuple[bool, bool]:
    authenticated = bool(user and user.is_authenticated)
    return authenticated, authenticated and user.is_active and user.is_staff


class KitchenConsumer(EventConsumer):
    """/ws/kitchen/: staff only (session cookie or ?token=)."""

    async def connect(self):
        authenticated, staff = await _is_staff(self.scope.get("user"))
        await self.accept()
        if not staff:
            return await self.close(code=4403 if authenticated else 4401)
        await self.join([events.GROUP_KITCHEN, events.GROUP_MENU])
        await self.send_snapshot(**await _kitchen_snapshot())
