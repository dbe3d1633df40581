from django.contrib import admin

from kitchen.models import StaffCall


@admin.register(StaffCall)
class StaffCallAdmin(admin.ModelAdmin):
    list_display = ["table", "message", "created_at", "notified", "attempts"]
    list_filter = ["notified"]
    readonly_fields = ["table", "message", "created_at", "notified", "attempts", "next_attempt_at"]
