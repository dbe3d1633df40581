from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import REPLAYED, IdempotentWrites, request_key_digest
from core.negotiation import FirstRenderer
from ordering import selectors
from ordering.errors import DomainError
from ordering.models import OrderStatus
from ordering.schema import EVENT_ID, GUEST_ORDER_KEY, ORDER_ID, TABLE_ID, ErrorSerializer, error_responses
from ordering.serializers import OrderSerializer, order_render
from ordering.throttles import PublicWriteIpThrottle, PublicWriteTableThrottle
from payments import payaction, reports, services
from payments.selectors import payment_event_get, payment_events
from payments.serializers import (
    OutcomeQuerySerializer,
    PaymentEventSerializer,
    PaymentMatchInSerializer,
    PaymentResolveInSerializer,
    PaymentStatusSerializer,
    PreOrderInSerializer,
    PreOrderOutSerializer,
    RefundInSerializer,
)

PRE_ORDER_MESSAGE = "선주문이 생성되었습니다. 토스로 이동해 입금해 주세요. 입금자명이 같아야 자동으로 확인됩니다."
PAID_MESSAGE = "입금이 확인된 주문입니다. 주방에 전달했어요."  # a resent pre-order, paid since


class PreOrderCreateApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [PublicWriteIpThrottle, PublicWriteTableThrottle]

    @extend_schema(
        operation_id="orders_pre_order",
        parameters=[TABLE_ID, GUEST_ORDER_KEY],
        request=PreOrderInSerializer,
        responses={201: PreOrderOutSerializer, **error_responses(400, 404, 409, 413, 429)},
        description="Pay-first order: stock reserved until `expires_at`; pay with the Toss link in `redirect_url`.",
    )
    def post(self, request, table_id):
        table = selectors.table_row(table_id=table_id)
        key = request_key_digest(request)
        data = PreOrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.pre_order_create(
            table_id=table.pk,
            payer_name=data.validated_data["payer_name"],
            total_amount=data.validated_data["total_amount"],
            quantities=data.validated_data["items"],
            cart_version=data.validated_data.get("cart_version"),
            client_key=key,
        )
        body = {
            "order_id": order.pk,
            "order_number": order.order_number,
            "message": PRE_ORDER_MESSAGE if order.status == OrderStatus.PRE_ORDER else PAID_MESSAGE,
            "total_amount": order.total_amount,
            "expires_at": order.expires_at,
            **services.pay_details(order),
        }
        headers = {REPLAYED: "true"} if order.resent else None
        return Response(PreOrderOutSerializer(body).data, status=status.HTTP_201_CREATED, headers=headers)


class PaymentStatusApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="orders_payment_status",
        parameters=[ORDER_ID],
        responses={200: PaymentStatusSerializer, **error_responses(404)},
    )
    def get(self, request, order_id):
        order = selectors.order_get(order_id=order_id)
        # How to pay too: another phone of the table, which did not place the pre-order, can pay it.
        return Response(PaymentStatusSerializer({"order": order, **services.pay_details(order)}).data)


class InvalidWebhookKey(DomainError):
    status_code = 401
    code = "invalid_webhook_key"
    detail = "웹훅 키가 올바르지 않습니다."

    def body(self):
        return {"status": "error", **super().body()}


WebhookOk = inline_serializer("WebhookOk", {"status": serializers.CharField()})


class PaymentWebhookApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    content_negotiation_class = FirstRenderer  # a 406 for PayAction's Accept would lose the deposit (no retry)

    @extend_schema(
        operation_id="webhook_payment",
        request=inline_serializer(
            "PayActionDelivery",
            {
                "order_number": serializers.CharField(required=False),
                "order_status": serializers.CharField(required=False),
                "transaction_type": serializers.ChoiceField(choices=["deposited", "withdrawn"], required=False),
                "transaction_name": serializers.CharField(required=False),
                "amount": serializers.IntegerField(required=False),
                "transaction_date": serializers.CharField(required=False),
                "processing_date": serializers.CharField(required=False),
            },
        ),
        responses={
            200: WebhookOk,
            400: OpenApiResponse(ErrorSerializer),
            401: OpenApiResponse(ErrorSerializer, description="invalid_webhook_key"),
            503: OpenApiResponse(ErrorSerializer, description="webhook_not_configured, or a passing fault"),
        },
        description="PayAction deliveries (match or deposit notice). Headers x-webhook-key, x-mall-id, x-trace-id.",
    )
    def post(self, request):
        if not settings.PAYACTION_WEBHOOK_KEY:
            raise DomainError("결제 웹훅이 설정되지 않았습니다.", code="webhook_not_configured", status=503)
        if not payaction.webhook_key_valid(request.headers.get("x-webhook-key"), request.headers.get("x-mall-id")):
            raise InvalidWebhookKey()
        services.payment_event_handle(raw_body=request.body, trace_id=request.headers.get("x-trace-id"))
        return Response({"status": "success"})


class ConfirmPaymentApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="orders_confirm_payment",
        parameters=[ORDER_ID],
        request=None,
        responses={200: OrderSerializer, **error_responses(401, 403, 404, 409)},
        description="Staff: a pre-order paid in cash or by a deposit that never came through is completed. "
        "An expired one is revived while its stock is there (409 sold_out when it is not); 409 not_pre_order "
        "for an order already completed.",
    )
    def post(self, request, order_id):
        return Response(order_render(services.order_confirm_payment(order_id=order_id, by=request.user)))


class RefundCreateApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="orders_refunds_create",
        parameters=[ORDER_ID],
        request=RefundInSerializer,
        responses={201: OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Staff: refund lines of a completed order, partly or whole (400 over_refund past what was "
        "ordered, 409 not_paid). The stock is not given back.",
    )
    def post(self, request, order_id):
        selectors.order_get(order_id=order_id)
        data = RefundInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_refund(
            order_id=order_id,
            quantities=data.validated_data["items"],
            reason=data.validated_data["reason"].strip(),
            by=request.user,
        )
        return Response(order_render(order), status=status.HTTP_201_CREATED)


class PaymentListApi(APIView):
    @extend_schema(
        operation_id="payments_list",
        parameters=[OutcomeQuerySerializer],
        responses={200: PaymentEventSerializer(many=True), **error_responses(400, 401, 403)},
        description="Newest first (500 at most); `open=true`: only those staff still have to deal with "
        "(unmatched, ambiguous or needs_refund, and not resolved).",
    )
    def get(self, request):
        query = OutcomeQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        events = payment_events(outcome=query.validated_data.get("outcome"), open_only=query.validated_data["open"])
        return Response(PaymentEventSerializer(events[:500], many=True).data)


class PaymentMatchApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="payments_match",
        parameters=[EVENT_ID],
        request=PaymentMatchInSerializer,
        responses={200: OrderSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Staff: an unmatched or ambiguous deposit completes a pending pre-order of the same amount "
        "(409 amount_differs, not_pending). The deposit leaves the staff screens' list (`payment.resolved`).",
    )
    def post(self, request, event_id):
        payment_event_get(event_id=event_id)  # 404 before validating the body
        data = PaymentMatchInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.payment_event_match(
            event_id=event_id, order_id=data.validated_data["order_id"], by=request.user
        )
        return Response(order_render(order))


def _report_day(request):
    text = request.query_params.get("date")
    if text is None:
        return None
    try:
        return reports.parse_day(text)
    except ValueError:
        raise DomainError("날짜는 YYYY-MM-DD 형식으로 보내 주세요.", code="invalid_date") from None


REPORT_DATE = OpenApiParameter(
    "date", str, required=False, description="business day YYYY-MM-DD; default: the current one"
)


class NightReportApi(APIView):
    @extend_schema(
        operation_id="reports_night",
        parameters=[REPORT_DATE],
        responses={
            200: OpenApiResponse(description="the night report (CONTRACT.md section 9)"),
            **error_responses(400, 401, 403),
        },
        description="A business day's sales, refunds, ticket times, sales by hour, top items, stations and "
        "payments, summed from the completed orders paid within it.",
    )
    def get(self, request):
        return Response(reports.night_report(_report_day(request)))


class NightReportCsvApi(APIView):
    content_negotiation_class = FirstRenderer  # the file itself is not rendered; its errors are JSON

    @extend_schema(
        operation_id="reports_night_csv",
        parameters=[REPORT_DATE],
        responses={
            (200, "text/csv"): OpenApiResponse(description="one row per order line, UTF-8 with a BOM"),
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request):
        day = _report_day(request) or reports.business_day()
        response = HttpResponse(reports.night_csv(day), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="night-{day.isoformat()}.csv"'
        return response


class PaymentResolveApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="payments_resolve",
        parameters=[EVENT_ID],
        request=PaymentResolveInSerializer,
        responses={200: PaymentEventSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Staff: a delivery that needed a person (unmatched, ambiguous, needs_refund) was dealt with: "
        "the money given back, or the order settled another way. It keeps its outcome and leaves the list of "
        "payments needing attention (`?open=true`, `payment.resolved` on /ws/staff/); a second resolve keeps "
        "the first. 409 payment_not_open for any other delivery. An expired order revived by "
        "confirm-payment settles the needs_refund deposit that came for it by itself.",
    )
    def post(self, request, event_id):
        payment_event_get(event_id=event_id)  # 404 before validating the body
        data = PaymentResolveInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = services.payment_event_resolve(
            event_id=event_id, note=data.validated_data["note"].strip(), by=request.user
        )
        return Response(PaymentEventSerializer(event).data)
