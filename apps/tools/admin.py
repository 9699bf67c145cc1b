from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.tools.models import ToolExecution


@admin.register(ToolExecution)
class ToolExecutionAdmin(admin.ModelAdmin):
    """The audit trail: read-only."""

    list_display = ["created_at", "tool", "success", "duration_ms", "run", "user"]
    list_filter = ["success", "tool", "created_at"]
    list_select_related = ["run", "user"]
    search_fields = ["tool", "error", "output_summary", "run__id", "user__username"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in ToolExecution._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.is_superuser)
