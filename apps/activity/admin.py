from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.activity.models import TaskEvent


@admin.register(TaskEvent)
class TaskEventAdmin(admin.ModelAdmin):
    """The feed's record: written by runs and the ingest endpoint only, so read-only here."""

    list_display = ["created_at", "type", "agent_name", "summary", "councilor", "audience", "run"]
    list_filter = ["type", "councilor", "created_at"]
    list_select_related = ["audience", "run"]
    search_fields = ["data__summary", "data__agent__name", "data__agent__slug", "run__id"]
    date_hierarchy = "created_at"
    readonly_fields = ["type", "data", "run", "councilor", "audience", "created_at"]

    @admin.display(description="Agent")
    def agent_name(self, event: TaskEvent) -> str:
        agent = event.data.get("agent") or {}
        return str(agent.get("name") or agent.get("slug") or "—")

    @admin.display(description="Summary")
    def summary(self, event: TaskEvent) -> str:
        return str(event.data.get("summary") or "")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
