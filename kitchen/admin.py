from django.contrib import admin

from kitchen.models import StaffCall


@admin.register(StaffCall)
class StaffCallAdmin(admin.ModelAdmin):
    list_display = ["table", "message", "created_at", "acked_at", "acked_by", "notified", "attempts"]
    list_filter = ["notified"]
    # Acknowledged on the staff screens, which record who (an edit here would not)
    readonly_fields = [
        "table",
        "message",
        "created_at",
        "acked_at",
        "acked_by",
        "notified",
        "attempts",
        "next_attempt_at",
    ]
