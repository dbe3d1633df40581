from django.contrib import admin

from core.admin import ReadOnlyAdmin
from payments.models import PayActionRegistration, PaymentEvent


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    """Read-only record of PayAction deliveries, the audit trail of money: a deleted one would let PayAction's
    retry of the same delivery pay another order. Matching happens on /staff/tables/ or the API."""

    list_display = ["received_at", "kind", "transaction_name", "amount", "outcome", "order"]
    list_filter = ["kind", "outcome"]
    search_fields = ["transaction_name", "trace_id", "order_number"]


@admin.register(PayActionRegistration)
class PayActionRegistrationAdmin(admin.ModelAdmin):
    list_display = ["order", "created_at", "done", "attempts", "next_attempt_at"]
    readonly_fields = ["order", "created_at", "done", "attempts", "next_attempt_at"]
