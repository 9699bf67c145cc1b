from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.core.models import RUNTIME_CONFIG_PK, RuntimeConfig
from apps.core.runtime_config import runtime_config_set_environment


@admin.register(RuntimeConfig)
class RuntimeConfigAdmin(admin.ModelAdmin):
    """One row: add it once, then change it; it cannot be deleted."""

    list_display = ["__str__", "environment", "project", "updated_by", "updated_at"]
    list_select_related = ["updated_by"]
    fields = ["environment", "project", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not RuntimeConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: RuntimeConfig, form: Any, change: bool) -> None:
        runtime_config_set_environment(
            environment=obj.environment, project=obj.project, actor=request.user
        )
        obj.pk = RUNTIME_CONFIG_PK
        obj.refresh_from_db()
