"""Thin HTTP views: validate, call one service or selector, serialize."""

from django.http import HttpResponse
from django.utils.cache import patch_cache_control
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.idempotency import REPLAYED, IdempotentWrites, request_key_digest
from ordering import selectors, services
from ordering.errors import DomainError
from ordering.menu import menu_current
from ordering.schema import FOOD_ID, FORCE, GUEST_CART_KEY, GUEST_ORDER_KEY, TABLE_ID, error_responses
from ordering.serializers import (
    MAX_DB_ID,
    CartInSerializer,
    CartSerializer,
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


class FoodDetailApi(IdempotentWrites, APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else super().get_permissions()

    @extend_schema(
        operation_id="foods_retrieve",
        parameters=[FOOD_ID],
        responses={200: FoodSerializer, **error_responses(404)},
        description="One food as the menu lists it.",
    )
    def get(self, request, food_id):
        return Response(FoodSerializer(selectors.food_get(food_id=food_id)).data)

    @extend_schema(
        operation_id="foods_partial_update",
        parameters=[FOOD_ID],
        request=FoodPatchSerializer,
        responses={200: FoodSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="Staff: sold-out switch, stock (null = not counted), price and station. Pushed to every open tab.",
    )
    def patch(self, request, food_id):
        selectors.food_get(food_id=food_id)  # 404 before validating the body
        data = FoodPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "stock" not in fields:
            fields["stock"] = services.UNSET
        food = services.food_update(food_id=food_id, by=request.user, **fields)
        return Response(FoodSerializer(food).data)


class TableListApi(APIView):
    @extend_schema(operation_id="tables_list", responses={200: TableSerializer(many=True), **error_responses(401, 403)})
    def get(self, request):
        return Response(TableSerializer(selectors.table_list(), many=True).data)


class TableCreateApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="tables_create",
        request=TableCreateSerializer,
        responses={201: TableSerializer, **error_responses(400, 401, 403, 409)},
        description="Staff: a new table (name optional: the next free one). With TABLE_OPENING=required it "
        "starts closed.",
    )
    def post(self, request):
        data = TableCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        table = services.table_create(name=data.validated_data.get("name"), by=request.user)
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
                "orders": [order_render(order) for order in orders],
                "total_spent": table.total_spent,
            }
        )


class ForceQuery(serializers.Serializer):
    force = serializers.BooleanField(required=False, default=False)


def _force(request) -> bool:
    query = ForceQuery(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data["force"]


OPEN_TICKETS = "open_tickets (+`count`): a paid ticket of the table is not served; `?force=true` goes ahead"


class TableResetApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="tables_orders_reset",
        parameters=[TABLE_ID, FORCE],
        responses={
            200: inline_serializer("TableReset", {"archived": serializers.IntegerField()}),
            **error_responses(400, 401, 403, 404, 409),
        },
        description="Archive the table's tab: orders leave the tab and stay in history. "
        "Pending pre-orders leave it too and can still be paid (a paid one comes back). 409 " + OPEN_TICKETS + ".",
    )
    def delete(self, request, table_id):
        force = _force(request)
        return Response({"archived": services.table_orders_reset(table_id=table_id, force=force, by=request.user)})


class TableOpenApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="tables_open",
        parameters=[TABLE_ID],
        request=None,
        responses={200: TableSerializer, **error_responses(401, 403, 404)},
        description="Start the table's session; with TABLE_OPENING=required it takes orders from now on.",
    )
    def post(self, request, table_id):
        return Response(TableSerializer(services.table_open(table_id=table_id, by=request.user)).data)


class TableCloseApi(IdempotentWrites, APIView):
    @extend_schema(
        operation_id="tables_close",
        parameters=[TABLE_ID, FORCE],
        request=None,
        responses={200: TableSerializer, **error_responses(400, 401, 403, 404, 409)},
        description="End the table's session: its tab is reset (same 409 " + OPEN_TICKETS + ").",
    )
    def post(self, request, table_id):
        force = _force(request)
        return Response(TableSerializer(services.table_close(table_id=table_id, force=force, by=request.user)).data)


class OrderCreateApi(PublicAPIView):
    throttle_classes = [PublicWriteIpThrottle, PublicWriteTableThrottle]

    @extend_schema(
        operation_id="orders_create",
        parameters=[GUEST_ORDER_KEY],
        request=OrderInSerializer,
        responses={201: OrderSerializer, **error_responses(400, 404, 409, 413, 429)},
        description="A direct order: stock is taken and prices frozen in one locked transaction.",
    )
    def post(self, request):
        key = request_key_digest(request)
        data = OrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_place(
            table_id=data.validated_data["table_id"],
            quantities=data.validated_data["items"],
            cart_version=data.validated_data.get("cart_version"),
            client_key=key,
        )
        headers = {REPLAYED: "true"} if order.resent else None
        return Response(order_render(order), status=status.HTTP_201_CREATED, headers=headers)


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
        return Response({"orders": [order_render(order) for order in orders], "total_spent": spent, "count": count})


class TableCartApi(PublicAPIView):
    """The table's shared cart (CONTRACT.md section 10): anyone holding the table's UUID."""

    def get_throttles(self):
        return [PublicWriteIpThrottle(), PublicWriteTableThrottle()] if self.request.method == "PUT" else []

    @extend_schema(
        operation_id="tables_cart_retrieve",
        parameters=[TABLE_ID],
        responses={200: CartSerializer, **error_responses(404)},
    )
    def get(self, request, table_id):
        table = selectors.table_row(table_id=table_id)
        return Response(CartSerializer(selectors.cart_of(table_id=table.pk)).data)

    @extend_schema(
        operation_id="tables_cart_update",
        parameters=[TABLE_ID, GUEST_CART_KEY],
        request=CartInSerializer,
        responses={200: CartSerializer, **error_responses(400, 404, 409, 413, 429)},
        description="Replace the cart. `version` is the one the phone saw: another phone's newer change answers "
        "409 cart_changed with the current cart. Every change reaches the table's phones as cart.updated. "
        "A write sent again with its Idempotency-Key after its answer was lost is answered with the cart as "
        "it is now, not applied twice.",
    )
    def put(self, request, table_id):
        selectors.table_row(table_id=table_id)  # 404 before validating the body
        data = CartInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart = services.cart_put(
            table_id=table_id,
            quantities=data.validated_data["items"],
            version=data.validated_data["version"],
            client_key=request_key_digest(request),
        )
        return Response(CartSerializer(cart).data, headers={REPLAYED: "true"} if cart.resent else None)
