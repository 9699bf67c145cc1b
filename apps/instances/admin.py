from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.admin_actions import apply_to_each
from apps.instances import services
from apps.instances.models import AgentInstance
from apps.mcp_client.configs import validate_mcp_configs

STATISTICS_FIELDS = [
    "task_count",
    "success_count",
    "error_count",
    "total_duration_ms",
    "average_duration",
    "last_duration_ms",
    "last_exit_status",
    "last_completed_at",
    "success_rate_percent",
]
EDITABLE_FIELDS = [
    "agent",
    "screenplay",
    "conversation",
    "position",
    "display_order",
    "cwd",
    "status",
    "config",
    "mcp_configs",
]


class AgentInstanceAdminForm(forms.ModelForm):
    class Meta:
        model = AgentInstance
        fields = EDITABLE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = self.fields["display_order"]
        order.required = False
        order.help_text = "Leave empty on a new instance to place it after the last one."

    def clean_mcp_configs(self) -> Any:
        value = self.cleaned_data.get("mcp_configs")
        validate_mcp_configs(value)  # the API's rule: named servers must be registered
        return value

    def clean_display_order(self) -> int | None:
        value: int | None = self.cleaned_data.get("display_order")
        if value is None and self.instance.pk is not None:
            raise forms.ValidationError("An existing instance keeps a display order.")
        return value


@admin.register(AgentInstance)
class AgentInstanceAdmin(admin.ModelAdmin):
    form = AgentInstanceAdminForm
    list_display = [
        "__str__",
        "agent",
        "screenplay",
        "conversation",
        "status",
        "display_order",
        "task_count",
        "success_rate_percent",
        "average_duration",
        "last_exit_status",
        "last_completed_at",
        "is_deleted",
    ]
    list_filter = ["status", "is_deleted", "agent", "screenplay"]
    list_select_related = ["agent", "screenplay", "conversation"]
    search_fields = [
        "agent__slug",
        "agent__name",
        "screenplay__name",
        "conversation__title",
        "cwd",
    ]
    autocomplete_fields = ["agent", "screenplay"]
    raw_id_fields = ["conversation"]
    readonly_fields = [
        *STATISTICS_FIELDS,
        "is_deleted",
        "deleted_at",
        "deletion_reason",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["agent", "screenplay", "conversation", "status"]}),
        ("Placement", {"fields": ["position", "display_order", "cwd"]}),
        ("Configuration", {"fields": ["config", "mcp_configs"]}),
        ("Statistics", {"fields": [*STATISTICS_FIELDS]}),
        (
            "Bookkeeping",
            {
                "fields": [
                    "is_deleted",
                    "deleted_at",
                    "deletion_reason",
                    "created_at",
                    "updated_at",
                ],
                "classes": ["collapse"],
            },
        ),
    ]
    actions = ["soft_delete_selected", "restore_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AgentInstance]:
        # Deleted rows stay visible to editors, behind the "is deleted" filter.
        queryset = AgentInstance.all_objects.select_related("agent", "screenplay", "conversation")
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    @admin.display(description="Success rate", ordering="success_count")
    def success_rate_percent(self, obj: AgentInstance) -> str:
        rate = obj.success_rate
        return "—" if rate is None else f"{rate:.1%}"

    @admin.display(description="Average duration")
    def average_duration(self, obj: AgentInstance) -> str:
        average = obj.average_duration_ms
        return "—" if average is None else f"{average:,.1f} ms"

    def save_model(self, request: HttpRequest, obj: AgentInstance, form: Any, change: bool) -> None:
        if change:
            services.instance_save(instance=obj, actor=request.user)
            return
        fields = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        saved = services.instance_create(actor=request.user, **fields)
        _copy_state(saved, obj)

    # Django's delete (view and action) is the hard delete: superusers only.
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_soft_delete_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("instances.delete_agentinstance")

    def delete_model(self, request: HttpRequest, obj: AgentInstance) -> None:
        services.instance_hard_delete(instance=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AgentInstance]) -> None:
        for instance in queryset:
            services.instance_hard_delete(instance=instance, actor=request.user)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        entry = actions.pop("delete_selected", None)
        if entry is not None:
            actions["delete_selected"] = (entry[0], entry[1], "Hard delete selected (permanent)")
        return actions

    @admin.action(description="Soft delete selected instances", permissions=["soft_delete"])
    def soft_delete_selected(self, request: HttpRequest, queryset: QuerySet[AgentInstance]) -> None:
        def soft_delete(instance: AgentInstance) -> object:
            return services.instance_soft_delete(instance=instance, actor=request.user)

        apply_to_each(
            self,
            request,
            queryset.filter(is_deleted=False),
            soft_delete,
            "Deleted",
            noun="instance(s)",
        )

    @admin.action(description="Restore selected instances", permissions=["change"])
    def restore_selected(self, request: HttpRequest, queryset: QuerySet[AgentInstance]) -> None:
        def restore(instance: AgentInstance) -> object:
            return services.instance_restore(instance=instance, actor=request.user)

        apply_to_each(
            self, request, queryset.filter(is_deleted=True), restore, "Restored", noun="instance(s)"
        )


def _copy_state(source: AgentInstance, target: AgentInstance) -> None:
    """The admin logs and redirects with the object it passed to save_model."""
    for field in AgentInstance._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
