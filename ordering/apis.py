"""Thin HTTP views: validate, call one service or selector, serialize."""

from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ordering import selectors, services
from ordering.errors import DomainError
from ordering.menu import menu_current
from ordering.schema import FOOD_ID, TABLE_ID, error_responses
from ordering.serializers import (
    MAX_DB_ID,
    CategoryQuerySerializer,
    FoodPatchSerializer,
    FoodSerializer,
    OrderInSerializer,
    OrderSerializer,
    TableCreateSerializer,
    TableSerializer,
    order_render,
)
from ordering.throttles import PublicWriteIpThrottle, PublicWriteTableThrottle


class PublicAPIView(APIView):
    permission_classes = [AllowAny]


class FoodListApi(PublicAPIView):
    @extend_schema(
        operation_id="foods_list",
        parameters=[OpenApiParameter("category", enum=["menu", "drinks"], required=False)],
        responses={200: FoodSerializer(many=True), **error_responses(400)},
        description="The menu. `stock: null` means not counted.",
    )
    def get(self, request):
        # A plain dict: DRF reads an empty query value (?category=) as absent; the schema says it is invalid.
        query = CategoryQuerySerializer(data=request.query_params.dict())
        if not query.is_valid():
            raise DomainError("분류는 menu 또는 drinks 입니다.", code="invalid_category")
        # Already rendered JSON: the menu is the same bytes for every phone until it changes. no-cache: a
        # phone asks every time, and ConditionalGetMiddleware answers 304 while the bytes (ETag) are the same.
        category = query.validated_data.get("category")
        menu = menu_current()
        response = HttpResponse(menu.body(category), content_type="application/json")
        response["ETag"] = menu.etag(category)
        patch_cache_control(response, no_cache=True)
        return response


class FoodDetailApi(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else super().get_permissions()

    @extend_schema(
        operation_id="foods_retrieve", parameters=[FOOD_ID], responses={200: FoodSerializer, **error_responses(404)}
    )
    def get(self, request, food_id):
        return Response(FoodSerializer(selectors.food_get(food_id=food_id)).data)

    @extend_schema(
        operation_id="foods_partial_update",
        parameters=[FOOD_ID],
        request=FoodPatchSerializer,
        responses={200: FoodSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Staff: sold-out switch, stock (null = not counted) and price. Pushed to every open tab.",
    )
    def patch(self, request, food_id):
        selectors.food_get(food_id=food_id)  # 404 before validating the body
        data = FoodPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "stock" not in fields:
            fields["stock"] = services.UNSET
        food = services.food_update(food_id=food_id, **fields)
        return Response(FoodSerializer(food).data)


class TableListApi(APIView):
    @extend_schema(operation_id="tables_list", responses={200: TableSerializer(many=True), **error_responses(401, 403)})
    def get(self, request):
        return Response(TableSerializer(selectors.table_list(), many=True).data)


class TableCreateApi(APIView):
    @extend_schema(
        operation_id="tables_create",
        request=TableCreateSerializer,
        responses={201: TableSerializer, **error_responses(400, 401, 403, 409)},
    )
    def post(self, request):
        data = TableCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        table = services.table_create(name=data.validated_data.get("name"))
        return Response(TableSerializer(table).data, status=status.HTTP_201_CREATED)


class TableDetailApi(PublicAPIView):
    @extend_schema(
        operation_id="tables_retrieve", parameters=[TABLE_ID], responses={200: TableSerializer, **error_responses(404)}
    )
    def get(self, request, table_id):
        return Response(TableSerializer(selectors.table_get(table_id=table_id)).data)


TableTabSerializer = inline_serializer(
    "TableTab",
    {
        "table": TableSerializer(),
        "orders": OrderSerializer(many=True),
        "total_spent": serializers.IntegerField(),
    },
)


class TableOrdersApi(PublicAPIView):
    @extend_schema(
        operation_id="tables_orders_list",
        parameters=[TABLE_ID],
        responses={200: TableTabSerializer, **error_responses(404)},
        description="The table's current session, newest first, cancelled orders left out.",
    )
    def get(self, request, table_id):
        table, orders = selectors.table_tab(table_id=table_id)
        return Response(
            {
                "table": TableSerializer(table).data,
                "orders": OrderSerializer(orders, many=True).data,
                "total_spent": table.total_spent,
            }
        )


class TableResetApi(APIView):
    @extend_schema(
        operation_id="tables_orders_reset",
        parameters=[TABLE_ID],
        responses={
            200: inline_serializer("TableReset", {"archived": serializers.IntegerField()}),
            **error_responses(401, 403, 404),
        },
        description="Archive the table's tab: orders leave the tab and stay in history. "
        "Pending pre-orders stay until paid or expired.",
    )
    def delete(self, request, table_id):
        return Response({"archived": services.table_orders_reset(table_id=table_id)})


class OrderCreateApi(PublicAPIView):
    throttle_classes = [PublicWriteIpThrottle, PublicWriteTableThrottle]

    @extend_schema(
        operation_id="orders_create",
        request=OrderInSerializer,
        responses={201: OrderSerializer, **error_responses(400, 404, 409, 413, 429)},
        description="A direct order: stock is taken and prices frozen in one locked transaction.",
    )
    def post(self, request):
        data = OrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_place(table_id=data.validated_data["table_id"], quantities=data.validated_data["items"])
        return Response(order_render(order), status=status.HTTP_201_CREATED)


class OrderHistoryApi(APIView):
    class Query(serializers.Serializer):
        table_id = serializers.UUIDField(required=False)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=50)
        # Bounded: a huge offset would overflow the database's LIMIT/OFFSET (a 503 for a bad query string).
        offset = serializers.IntegerField(required=False, min_value=0, max_value=MAX_DB_ID, default=0)

    @extend_schema(
        operation_id="orders_history",
        parameters=[Query],
        responses={
            200: inline_serializer(
                "OrderHistory",
                {
                    "orders": OrderSerializer(many=True),
                    "total_spent": serializers.IntegerField(),
                    "count": serializers.IntegerField(),
                },
            ),
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request):
        query = self.Query(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        orders, count, spent = selectors.order_history(**query.validated_data)
        return Response({"orders": OrderSerializer(orders, many=True).data, "total_spent": spent, "count": count})
