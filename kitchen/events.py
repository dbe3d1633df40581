"""Staff-call events (CONTRACT.md section 5): to the kitchen boards and the staff screens, never to the tab."""

from kitchen.models import StaffCall
from kitchen.serializers import StaffCallSerializer
from ordering.events import GROUP_KITCHEN, GROUP_STAFF
from realtime.broadcast import send_event


def staff_called(call: StaffCall) -> None:
    send_event([GROUP_KITCHEN, GROUP_STAFF], "staff.called", call=StaffCallSerializer(call).data)


def staff_call_acked(call: StaffCall) -> None:
    send_event([GROUP_KITCHEN, GROUP_STAFF], "staff.call_acked", call=StaffCallSerializer(call).data)
