from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from apps.portfolio.models import PortfolioSession


@admin.register(PortfolioSession)
class PortfolioSessionAdmin(admin.ModelAdmin):
    """Read-only: sessions are made by visitors; their messages live in the conversation."""

    list_display = ["__str__", "conversation", "created_at", "last_used_at"]
    list_select_related = ["conversation"]
    date_hierarchy = "last_used_at"
    search_fields = ["conversation__title", "conversation__messages__content"]
    readonly_fields = ["conversation", "created_at", "last_used_at"]
    fields = ["conversation", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
