from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import BaseModelForm
from django.http import HttpRequest
from django.utils import timezone

from apps.agents.models import Agent
from apps.core.admin_actions import apply_to_each
from apps.councilors import schedules, selectors, services
from apps.councilors.models import Councilor, CouncilorTick

EDITABLE_FIELDS = [*services.CONFIG_FIELDS, "context_screenplays"]
TICK_FIELDS = ["created_at", "trigger", "outcome", "skip_reason", "reason", "run", "requested_by"]


class CouncilorAdminForm(forms.ModelForm):
    """On add, also the agent to promote and the new screenplay's working directory."""

    agent = forms.ModelChoiceField(queryset=Agent.objects.filter(is_active=True), required=False)
    avatar_url = forms.URLField(required=False, max_length=500, assume_scheme="https")
    working_directory = forms.CharField(
        required=False,
        max_length=500,
        help_text="Absolute path the councilor's runs work in. Empty: the configured default.",
    )

    class Meta:
        model = Councilor
        fields = EDITABLE_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None and cleaned.get("agent") is None:
            self.add_error("agent", "Choose the agent to promote.")
        return cleaned


class CouncilorTickInline(admin.TabularInline):
    model = CouncilorTick
    fields = tuple(TICK_FIELDS)
    readonly_fields = TICK_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Councilor)
class CouncilorAdmin(admin.ModelAdmin):
    form = CouncilorAdminForm
    list_display = [
        "title",
        "agent",
        "schedule_in_words",
        "timezone",
        "enabled",
        "next_run",
        "last_severity",
        "updated_at",
    ]
    list_filter = ["enabled", "schedule_type", "output_format", "timezone"]
    search_fields = ["title", "task_name", "display_name", "instance__agent__slug"]
    readonly_fields = [
        "instance",
        "periodic_task",
        "schedule_in_words",
        "next_run",
        "created_at",
        "updated_at",
    ]
    filter_horizontal = ["context_screenplays"]
    inlines = [CouncilorTickInline]
    actions = ["execute_now", "pause", "resume"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Councilor]:
        return selectors.councilors_with_details()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        promote = [] if obj is not None else ["agent", "working_directory"]
        sections: list[Any] = [
            (None, {"fields": [*promote, "title", "display_name", "avatar_url", "color"]}),
            (
                "Schedule",
                {"fields": ["schedule_type", "schedule_value", "timezone", "enabled"]},
            ),
            ("Task", {"fields": ["task_name", "task_prompt", "context_screenplays"]}),
            ("Output", {"fields": ["output_format"]}),
            (
                "Notifications",
                {
                    "fields": [
                        "notify_on_success",
                        "notify_on_warning",
                        "notify_on_error",
                        "notify_channels",
                    ]
                },
            ),
        ]
        status = [("Status", {"fields": self.get_readonly_fields(request, obj)})]
        return sections + (status if obj is not None else [])

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields) if obj is not None else []

    @admin.display(description="Agent", ordering="instance__agent__slug")
    def agent(self, councilor: Councilor) -> str:
        return councilor.instance.agent.slug

    @admin.display(description="Schedule")
    def schedule_in_words(self, councilor: Councilor) -> str:
        try:
            return schedules.describe(councilor.schedule)
        except ValidationError:  # a change form being corrected shows the unsaved value
            return "(invalid schedule)"

    @admin.display(description="Next run")
    def next_run(self, councilor: Councilor) -> str:
        try:
            when = selectors.councilor_next_run_at(councilor)
        except ValidationError:
            return "—"
        if when is None:
            return "paused"
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S %Z")

    @admin.display(description="Last severity")
    def last_severity(self, councilor: Councilor) -> str:
        return getattr(councilor, "last_severity", None) or "—"

    def save_model(
        self, request: HttpRequest, obj: Councilor, form: BaseModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        config = {name: data[name] for name in services.CONFIG_FIELDS if name in data}
        screenplays = data.get("context_screenplays", [])
        if change:
            services.councilor_update(
                councilor=obj, actor=request.user, context_screenplays=screenplays, **config
            )
            return
        promoted = services.councilor_promote(
            agent=data["agent"],
            actor=request.user,
            context_screenplays=screenplays,
            working_directory=data.get("working_directory") or "",
            **config,
        )
        obj.pk = promoted.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The services already set the context screenplays (ticks are read-only)."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Councilor) -> None:
        services.councilor_demote(councilor=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Councilor]) -> None:
        for councilor in queryset:
            services.councilor_demote(councilor=councilor, actor=request.user)

    @admin.action(description="Execute now", permissions=["change"])
    def execute_now(self, request: HttpRequest, queryset: QuerySet[Councilor]) -> None:
        def run(councilor: Councilor) -> object:
            return services.councilor_execute_now(councilor=councilor, actor=request.user)

        apply_to_each(self, request, queryset, run, "Started", noun="councilor(s)")

    @admin.action(description="Pause", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Councilor]) -> None:
        def pause(councilor: Councilor) -> object:
            return services.councilor_pause(councilor=councilor, actor=request.user)

        apply_to_each(self, request, queryset, pause, "Paused", noun="councilor(s)")

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Councilor]) -> None:
        def resume(councilor: Councilor) -> object:
            return services.councilor_resume(councilor=councilor, actor=request.user)

        apply_to_each(self, request, queryset, resume, "Resumed", noun="councilor(s)")


@admin.register(CouncilorTick)
class CouncilorTickAdmin(admin.ModelAdmin):
    """Every time a councilor was due: started runs and skipped ticks, with the reason."""

    list_display = ["created_at", "councilor", "trigger", "outcome", "skip_reason", "run"]
    list_filter = ["outcome", "trigger", "skip_reason", "created_at"]
    search_fields = ["councilor__title", "reason"]
    list_select_related = ["councilor", "run"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "councilor",
        "trigger",
        "outcome",
        "skip_reason",
        "reason",
        "run",
        "requested_by",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
