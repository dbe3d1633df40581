from django.contrib import admin

from core.admin import ReadOnlyAdmin
from ordering.models import Food, Order, OrderItem, Refund, Table
from ordering.selectors import next_display_order
from ordering.services import food_save


@admin.register(Food)
class FoodAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "station", "price", "sold_out", "stock", "display_order"]
    list_filter = ["category", "station", "sold_out"]
    search_fields = ["name"]
    # Sold-out, stock and price go through /staff/menu/ (ordering.services.food_update) so they are pushed live.
    readonly_fields = ["sold_out", "stock", "updated_at"]

    def get_changeform_initial_data(self, request):
        # A new dish goes after the others (display_order 0 would put it above the whole menu on every phone).
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("display_order", next_display_order())
        return initial

    def save_model(self, request, obj, form, change):
        food_save(food=obj, by=request.user)  # attributed, and phones see a new dish or a new price at once


@admin.register(Table)
class TableAdmin(admin.ModelAdmin):
    list_display = ["name", "is_open", "id", "created_at"]
    list_filter = ["is_open"]
    search_fields = ["name", "id"]
    # Opening and closing go through /staff/tables/ (ordering.services), which resets and tells every screen.
    readonly_fields = ["id", "created_at", "is_open"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = [
        "food",
        "food_name",
        "unit_price",
        "quantity",
        "station",
        "kitchen_status",
        "started_at",
        "served_at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ["food", "food_name", "unit_price", "quantity", "amount", "reason", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Read-only: orders change only through the services (stock, events and alerts stay consistent)."""

    list_display = [
        "order_number",
        "table",
        "status",
        "kitchen_status",
        "payer_name",
        "total_amount",
        "refunded_amount",
        "order_date",
        "paid_at",
        "discord_notified",
    ]
    list_filter = ["status", "kitchen_status", "discord_notified"]
    search_fields = ["order_number", "payer_name", "id"]
    list_select_related = ["table"]
    inlines = [OrderItemInline, RefundInline]
