from django.contrib import admin

from payments.models import PayActionRegistration, PaymentEvent


@admin.register(PaymentEvent)
class PaymentEventAdmin(admin.ModelAdmin):
    """Read-only record of PayAction deliveries; matching happens on /staff/tables/ or the API."""

    list_display = ["received_at", "kind", "transaction_name", "amount", "outcome", "order"]
    list_filter = ["kind", "outcome"]
    search_fields = ["transaction_name", "trace_id", "order_number"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(PayActionRegistration)
class PayActionRegistrationAdmin(admin.ModelAdmin):
    list_display = ["order", "created_at", "done", "attempts", "next_attempt_at"]
    readonly_fields = ["order", "created_at", "done", "attempts", "next_attempt_at"]
