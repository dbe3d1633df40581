from django.contrib import admin

from core.models import StaffAction


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record the admin shows but never adds, changes or deletes (the services write it)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Django titles a list one may only view "Select … to view", which reads badly in Korean.
        title = {"title": f"{self.opts.verbose_name_plural} 목록"}
        return super().changelist_view(request, {**title, **(extra_context or {})})


@admin.register(StaffAction)
class StaffActionAdmin(ReadOnlyAdmin):
    """Read-only: a record of what staff did is evidence, not something to edit."""

    list_display = ["created_at", "user", "action", "target", "what"]
    search_fields = ["target", "user__username"]
    # No date_hierarchy: it groups by day with the database's time zone functions, which a MariaDB without
    # its time zone tables (the usual install) refuses; the list is newest first and filters by day instead.
    list_filter = ["action", "user", ("created_at", admin.DateFieldListFilter)]

    @admin.display(description="내용")
    def what(self, action: StaffAction) -> str:
        return ", ".join(f"{key}: {value}" for key, value in action.detail.items())
