"""The staff sockets: the kitchen and bar boards (/ws/kitchen/) and the staff screens (/ws/staff/)."""

from channels.db import database_sync_to_async
from django.http import QueryDict

from kitchen import selectors as kitchen_selectors
from ordering import events
from ordering.models import Station
from realtime.consumers import EventConsumer

kitchen_snapshot = database_sync_to_async(kitchen_selectors.kitchen_snapshot)
staff_snapshot = database_sync_to_async(kitchen_selectors.staff_snapshot)


@database_sync_to_async
def _is_staff(user) -> tuple[bool, bool]:
    authenticated = bool(user and user.is_authenticated)
    return authenticated, authenticated and user.is_active and user.is_staff


class StaffOnlyConsumer(EventConsumer):
    """Staff by session cookie or ?token=; 4401 without a user, 4403 for a user who is not staff."""

    async def staff_accept(self) -> bool:
        authenticated, staff = await _is_staff(self.scope.get("user"))
        await self.accept()
        if not staff:
            await self.close(code=4403 if authenticated else 4401)
        return staff


class KitchenConsumer(StaffOnlyConsumer):
    """/ws/kitchen/[?station=kitchen|bar]: a board. With a station, the snapshot holds only tickets with an
    unserved line of it; events are the kitchen feed's, and the board shows its station's part of them."""

    async def connect(self):
        if not await self.staff_accept():
            return
        station = QueryDict(self.scope.get("query_string", b"")).get("station") or None
        if station is not None and station not in Station.values:
            await self.send_event("error", code="invalid_station", detail="station은 kitchen 또는 bar 입니다.")
            return await self.close(code=4400)
        await self.join([events.GROUP_KITCHEN, events.GROUP_MENU])
        await self.send_snapshot(**await kitchen_snapshot(station=station))


class StaffConsumer(StaffOnlyConsumer):
    """/ws/staff/: the live floor: every order, table, call and payment that needs a person."""

    async def connect(self):
        if not await self.staff_accept():
            return
        await self.join([events.GROUP_STAFF, events.GROUP_MENU])
        await self.send_snapshot(**await staff_snapshot())
