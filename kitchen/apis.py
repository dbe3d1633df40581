from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import REPLAYED, IdempotentWrites, request_key_digest
from kitchen import selectors as kitchen_selectors
from kitchen import services
from kitchen.serializers import StaffCallQuerySerializer, StaffCallSerializer
from ordering import selectors
from ordering.schema import CALL_ID, GUEST_CALL_KEY, ORDER_ID, TABLE_ID, error_responses
from ordering.serializers import (
    KitchenStatusInSerializer,
    OrderSerializer,
    StationQuerySerializer,
    StrictCharField,
    order_render,
)
from ordering.throttles import PublicWriteIpThrottle, StaffCallThrottle


class TokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class TokenInput(serializers.Serializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        operation_id="auth_token",
        request=TokenInput,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField()}),
            **error_responses(400, 429),
        },
        description="Staff API token for `Authorization: Token <key>` and the staff sockets' `?token=`. "
        "Failed attempts are limited per address and per username (429 too_many_attempts).",
    )
    def post(self, request):
        data = self.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"token": services.staff_token_issue(request=request, **data.validated_data)})


class KitchenOrdersApi(APIView):
    @extend_schema(
        operation_id="kitchen_orders_list",
        parameters=[StationQuerySerializer],
        responses={200: OrderSerializer(many=True), **error_responses(400, 401, 403)},
        description="Open tickets: completed, not served, not archived; oldest first. "
        "With `station`, those with an unserved line of it.",
    )
    def get(self, request):
        query = StationQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        orders = selectors.kitchen_open_orders(station=query.validated_data.get("station"))
        return Response([order_render(order) for order in orders])


class KitchenStatusApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="orders_kitchen_status",
        parameters=[ORDER_ID],
        request=KitchenStatusInSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="queued -> cooking -> served; served -> cooking is a recall. Only completed orders move. "
        "With `station`, only that station's lines move; the order's status follows from its lines.",
    )
    def patch(self, request, order_id):
        selectors.order_get(order_id=order_id)  # 404 before validating the body
        data = KitchenStatusInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_kitchen_status_set(order_id=order_id, by=request.user, **data.validated_data)
        return Response(order_render(order))


class TooManyCalls(exceptions.Throttled):
    default_code = "too_many_calls"


class CallStaffApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [PublicWriteIpThrottle, StaffCallThrottle]

    class CallStaffInput(serializers.Serializer):
        message = StrictCharField(required=False, allow_blank=True, max_length=200, default="")

    def throttled(self, request, wait):
        raise TooManyCalls(wait)

    def initial(self, request, *args, **kwargs):
        selectors.table_row(table_id=kwargs["table_id"])  # unknown tables are 404, not rate limited
        super().initial(request, *args, **kwargs)

    def check_throttles(self, request):
        # A body no call can come of is refused (400) before it uses up one of the table's few calls a minute.
        self.CallStaffInput(data=request.data).is_valid(raise_exception=True)
        super().check_throttles(request)

    @extend_schema(
        operation_id="tables_call_staff",
        parameters=[TABLE_ID, GUEST_CALL_KEY],
        request=CallStaffInput,
        responses={
            202: inline_serializer(
                "StaffCalled", {"status": serializers.CharField(), "call_id": serializers.IntegerField()}
            ),
            **error_responses(400, 404, 409, 429),
        },
        description="Stored as a StaffCall (each call its own) and shown on every staff screen until acknowledged.",
    )
    def post(self, request, table_id):
        data = self.CallStaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        call = services.staff_call(
            table_id=table_id, message=data.validated_data["message"].strip(), client_key=request_key_digest(request)
        )
        headers = {REPLAYED: "true"} if call.resent else None
        return Response({"status": "sent", "call_id": call.pk}, status=status.HTTP_202_ACCEPTED, headers=headers)


class StaffCallListApi(APIView):
    @extend_schema(
        operation_id="staff_calls_list",
        parameters=[StaffCallQuerySerializer],
        responses={200: StaffCallSerializer(many=True), **error_responses(400, 401, 403)},
        description="Newest first; `open=true`: only those not yet acknowledged.",
    )
    def get(self, request):
        query = StaffCallQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        calls = kitchen_selectors.staff_calls(open_only=query.validated_data["open"])
        return Response(StaffCallSerializer(calls, many=True).data)


class StaffCallAckApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="staff_calls_ack",
        parameters=[CALL_ID],
        request=None,
        responses={200: StaffCallSerializer, **error_responses(401, 403, 404)},
        description="Acknowledged by the caller; a second acknowledgement keeps the first.",
    )
    def post(self, request, call_id):
        return Response(StaffCallSerializer(services.staff_call_ack(call_id=call_id, by=request.user)).data)
