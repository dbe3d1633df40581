from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from kitchen import services
from ordering import selectors
from ordering.errors import DomainError
from ordering.schema import ORDER_ID, TABLE_ID, error_responses
from ordering.serializers import KitchenStatusInSerializer, OrderSerializer, StrictCharField, order_render
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
            **error_responses(400),
        },
        description="Staff API token for `Authorization: Token <key>` and the kitchen socket's `?token=`.",
    )
    def post(self, request):
        data = self.TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise DomainError("아이디 또는 비밀번호가 올바르지 않습니다.", code="invalid_credentials")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class KitchenOrdersApi(APIView):
    @extend_schema(
        operation_id="kitchen_orders_list",
        responses={200: OrderSerializer(many=True), **error_responses(401, 403)},
        description="Open tickets: completed, not served, not archived; oldest first.",
    )
    def get(self, request):
        return Response(OrderSerializer(selectors.kitchen_open_orders(), many=True).data)


class KitchenStatusApi(APIView):
    @extend_schema(
        operation_id="orders_kitchen_status",
        parameters=[ORDER_ID],
        request=KitchenStatusInSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="queued -> cooking -> served; served -> cooking is a recall. Only completed orders move.",
    )
    def patch(self, request, order_id):
        selectors.order_get(order_id=order_id)  # 404 before validating the body
        data = KitchenStatusInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_kitchen_status_set(order_id=order_id, **data.validated_data)
        return Response(order_render(order))


class CallStaffApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [PublicWriteIpThrottle, StaffCallThrottle]

    class CallStaffInput(serializers.Serializer):
        message = StrictCharField(required=False, allow_blank=True, max_length=200, default="")

    def throttled(self, request, wait):
        exc = exceptions.Throttled(wait)
        exc.contract_code = "too_many_calls"
        raise exc

    def initial(self, request, *args, **kwargs):
        selectors.table_get(table_id=kwargs["table_id"])  # unknown tables are 404, not rate limited
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="tables_call_staff",
        parameters=[TABLE_ID],
        request=CallStaffInput,
        responses={
            202: inline_serializer("StaffCalled", {"status": serializers.CharField()}),
            **error_responses(400, 404, 429),
        },
    )
    def post(self, request, table_id):
        data = self.CallStaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.staff_call(table_id=table_id, message=data.validated_data["message"].strip())
        return Response({"status": "sent"}, status=status.HTTP_202_ACCEPTED)
