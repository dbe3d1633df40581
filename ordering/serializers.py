"""Thin HTTP shapes of CONTRACT.md section 3: input validation and output rendering only."""

from rest_framework import serializers

from ordering.models import (
    MAX_DB_ID,
    UUID_TEXT,
    Cart,
    Category,
    Food,
    KitchenStatus,
    Order,
    OrderItem,
    Refund,
    Station,
    Table,
)

MAX_ORDER_LINES = 50
MAX_QUANTITY = 99


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "2", 2.5, 2.0 and true are refused rather than coerced."""

    default_error_messages = {"invalid": "정수를 입력해 주세요."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """A UUID string as the API writes it only: DRF's UUIDField would turn an integer (even true), braces or
    full-width digits into a UUID."""

    def to_internal_value(self, data):
        if not (isinstance(data, str) and UUID_TEXT.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only: DRF's CharField would turn 0 or 1.5 into "0" and "1.5"."""

    default_error_messages = {"invalid": "문자열을 입력해 주세요."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON true/false only."""

    default_error_messages = {"invalid": "true 또는 false를 입력해 주세요."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


# --- output -----------------------------------------------------------------------------------------


class FoodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Food
        fields = ["id", "name", "price", "category", "description", "image", "sold_out", "stock", "station"]


class TableSerializer(serializers.ModelSerializer):
    total_spent = serializers.SerializerMethodField()

    class Meta:
        model = Table
        fields = ["id", "name", "created_at", "total_spent", "is_open"]

    def get_total_spent(self, table) -> int:
        return int(getattr(table, "total_spent", 0) or 0)


class FoodRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="food_id")
    name = serializers.CharField(source="food_name")
    price = serializers.IntegerField(source="unit_price", help_text="주문 당시 가격")


class OrderItemSerializer(serializers.ModelSerializer):
    food = FoodRefSerializer(source="*")
    total_price = serializers.IntegerField()

    class Meta:
        model = OrderItem
        fields = ["food", "quantity", "total_price", "station", "kitchen_status"]


class RefundSerializer(serializers.ModelSerializer):
    food = FoodRefSerializer(source="*")

    class Meta:
        model = Refund
        fields = ["food", "quantity", "amount", "reason", "created_at"]


class OrderSerializer(serializers.ModelSerializer):
    table = serializers.UUIDField(source="table_id")
    table_name = serializers.CharField(source="table.name")
    items = OrderItemSerializer(many=True, source="lines")
    refunds = RefundSerializer(many=True, source="refund_lines")

    class Meta:
        model = Order
        fields = [
            "id",
            "order_number",
            "table",
            "table_name",
            "status",
            "kitchen_status",
            "payer_name",
            "total_amount",
            "refunded_amount",
            "items",
            "refunds",
            "order_date",
            "paid_at",
            "expires_at",
        ]


_ORDER_RENDERER = OrderSerializer()


def order_render(order: Order) -> dict:
    """An order as OrderSerializer renders it (API answers, events, snapshots).

    Through one bound instance: a ModelSerializer builds its fields anew for every instance, which costs
    more than the rendering itself (docs/benchmarks.md); `to_representation` keeps no state between orders.
    """
    return _ORDER_RENDERER.to_representation(order)


class CartSerializer(serializers.ModelSerializer):
    items = serializers.ListField(child=serializers.DictField(child=serializers.IntegerField()))

    class Meta:
        model = Cart
        fields = ["items", "version", "updated_at"]


# --- input ------------------------------------------------------------------------------------------


class OrderLineInSerializer(serializers.Serializer):
    food_id = StrictIntegerField(min_value=1, max_value=MAX_DB_ID)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class OrderLinesField(serializers.ListField):
    child = OrderLineInSerializer()

    def __init__(self, *, allow_empty: bool = False, **kwargs):
        # A cart may be empty; an order may not. Both count lines as sent, before merging.
        super().__init__(
            min_length=0 if allow_empty else 1, max_length=MAX_ORDER_LINES, allow_empty=allow_empty, **kwargs
        )

    def to_internal_value(self, data):
        # Lines are counted as sent (CONTRACT.md section 4): the length validators would see the merged dict.
        if isinstance(data, list) and len(data) > MAX_ORDER_LINES:
            self.fail("max_length", max_length=MAX_ORDER_LINES)
        merged = lines_merged(super().to_internal_value(data))
        if merged and max(merged.values()) > MAX_QUANTITY:
            raise serializers.ValidationError(f"한 메뉴는 최대 {MAX_QUANTITY}개까지 주문할 수 있습니다.")
        return merged


def lines_merged(lines: list[dict]) -> dict[int, int]:
    """Quantities by food: repeated food lines are merged into one."""
    merged: dict[int, int] = {}
    for line in lines:
        merged[line["food_id"]] = merged.get(line["food_id"], 0) + line["quantity"]
    return merged


def cart_version_field() -> StrictIntegerField:
    """An order's `cart_version`, the same on direct orders and pre-orders (CONTRACT.md section 10)."""
    return StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_DB_ID,
        help_text="placed from the cart at this version: its lines come out of the cart (all of it when the "
        "version is still the latest)",
    )


class OrderInSerializer(serializers.Serializer):
    table_id = StrictUUIDField()
    items = OrderLinesField()
    cart_version = cart_version_field()


class CartInSerializer(serializers.Serializer):
    items = OrderLinesField(allow_empty=True)
    version = StrictIntegerField(min_value=0, max_value=MAX_DB_ID)


class FoodPatchSerializer(serializers.Serializer):
    sold_out = StrictBooleanField(required=False)
    stock = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=100_000)
    price = StrictIntegerField(required=False, min_value=0, max_value=10_000_000)
    station = serializers.ChoiceField(choices=Station.choices, required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("sold_out, stock, price, station 중 하나 이상을 보내 주세요.")
        return attrs


class TableCreateSerializer(serializers.Serializer):
    name = StrictCharField(required=False, max_length=50, allow_blank=False, trim_whitespace=True)


class KitchenStatusInSerializer(serializers.Serializer):
    kitchen_status = serializers.ChoiceField(choices=KitchenStatus.choices)
    station = serializers.ChoiceField(choices=Station.choices, required=False, help_text="only this station's lines")
    from_status = serializers.ChoiceField(
        choices=KitchenStatus.choices,
        required=False,
        help_text="the status the screen showed when tapped: if the lines moved on since (another screen), "
        "409 invalid_transition and nothing changes",
    )


class StationQuerySerializer(serializers.Serializer):
    station = serializers.ChoiceField(choices=Station.choices, required=False)


class CategoryQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, required=False)
