from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from apps.agents import services
from apps.agents.models import Agent
from apps.mcp_client.configs import validate_mcp_configs
from apps.runs.admin import start_runs
from apps.runs.forms import AdminRunForm
from apps.runtime.providers import DEMO_MODEL


class AgentAdminForm(forms.ModelForm):
    class Meta:
        model = Agent
        fields = [  # the admin's fieldsets decide what is shown
            "slug", "name", "emoji", "description", "group", "tags", "is_active",
            "persona", "model", "fallback_models", "tools", "pre_approved_tools", "max_steps",
            "mcp_configs",
        ]  # fmt: skip

    def clean_mcp_configs(self) -> Any:
        value = self.cleaned_data.get("mcp_configs")
        validate_mcp_configs(value)  # the API's rule: named servers must be registered
        return value


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    form = AgentAdminForm
    list_display = [
        "slug",
        "name",
        "emoji",
        "group",
        "persona",
        "model_label",
        "max_steps",
        "is_active",
        "updated_at",
    ]
    list_display_links = ["slug", "name"]
    list_filter = ["is_active", "group", "model"]
    list_select_related = ["persona"]
    search_fields = ["slug", "name", "description", "group", "persona__name"]
    autocomplete_fields = ["persona"]
    readonly_fields = ["created_at", "updated_at"]
    actions = ["activate", "deactivate", "duplicate", "run_now"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "emoji", "description", "group", "tags", "is_active"]}),
        (
            "Behaviour",
            {
                "fields": [
                    "persona",
                    "model",
                    "fallback_models",
                    "tools",
                    "pre_approved_tools",
                    "max_steps",
                    "mcp_configs",
                ]
            },
        ),
        ("Timestamps", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Agent, form: Any, change: bool) -> None:
        services.agent_save(agent=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Agent) -> None:
        services.agent_delete(agent=obj, actor=request.user)

    @admin.action(description="Activate selected agents", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        count = services.agents_set_active(agents=queryset, active=True, actor=request.user)
        self.message_user(request, f"Activated {count} agent(s).", messages.SUCCESS)

    @admin.action(description="Deactivate selected agents", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        count = services.agents_set_active(agents=queryset, active=False, actor=request.user)
        self.message_user(request, f"Deactivated {count} agent(s).", messages.SUCCESS)

    @admin.action(
        description="Duplicate selected agents (copies start inactive)", permissions=["add"]
    )
    def duplicate(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        copies = [services.agent_duplicate(agent=agent, actor=request.user) for agent in queryset]
        slugs = ", ".join(copy.slug for copy in copies)
        self.message_user(request, f"Created {len(copies)} copy(ies): {slugs}.", messages.SUCCESS)

    @admin.display(description="Model", ordering="model")
    def model_label(self, agent: Agent) -> str:
        return f"{agent.model} (offline demo)" if agent.model == DEMO_MODEL else agent.model

    def has_start_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("runs.add_run")

    @admin.action(description="Run now…", permissions=["start_run"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[Agent]) -> TemplateResponse | None:
        form = AdminRunForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            requests = ((agent.slug, form.run_request(agent)) for agent in queryset)
            if start_runs(self, request, requests):
                return None
        return self._run_now_page(request, queryset, form)

    def _run_now_page(
        self, request: HttpRequest, queryset: QuerySet[Agent], form: AdminRunForm
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Run agents now",
            "opts": self.opts,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/agents/agent/run_now.html", context)
