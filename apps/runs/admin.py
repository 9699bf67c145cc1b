from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.exceptions import ConductorError
from apps.runs import services
from apps.runs.approvals import approval_resolve
from apps.runs.exceptions import RunNotCancellable
from apps.runs.forms import AdminStartRunForm
from apps.runs.models import Approval, Run, RunSource, RunStatus, RunStep
from apps.runs.services import RunRequest

PAYLOAD_MAX_CHARS = 20_000
RUN_FIELDS = [
    "id",
    "agent",
    "instance",
    "conversation",
    "screenplay",
    "input",
    "context_mode",
    "cwd",
    "model",
    "max_steps",
    "timeout_seconds",
    "max_cost_usd",
    "max_tokens",
]
OUTCOME_FIELDS = ["status", "result", "error", "severity"]
USAGE_FIELDS = ["prompt_tokens", "completion_tokens", "total_tokens", "cost_usd", "event_count"]
TIMING_FIELDS = [
    "created_at",
    "started_at",
    "finished_at",
    "duration",
    "heartbeat_at",
    "cancel_requested_at",
]
ORIGIN_FIELDS = ["source", "created_by"]
STEP_FIELDS = [
    "index",
    "kind",
    "pretty_payload",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "latency_ms",
]


def human_duration(milliseconds: int | None) -> str:
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds_left = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {seconds_left:02d}s"
    hours, minutes_left = divmod(minutes, 60)
    return f"{hours}h {minutes_left:02d}m"


def run_links(runs: Iterable[Run]) -> SafeString:
    return format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        ((reverse("admin:runs_run_change", args=[run.pk]), short_id(run)) for run in runs),
    )


def short_id(run: Run) -> str:
    return str(run.pk)[:8]


def start_runs(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    requests: Iterable[tuple[str, RunRequest]],
) -> list[Run]:
    """Starts one admin run per (label, request); each failure becomes an error message."""
    started = []
    for label, run_request in requests:
        try:
            run = services.run_start(
                request=run_request, actor=request.user, source=RunSource.ADMIN
            )
        except ConductorError as exc:
            model_admin.message_user(request, f"{label}: {exc.message}", messages.ERROR)
        else:
            started.append(run)
    if started:
        message = format_html("Started {} run(s): {}.", len(started), run_links(started))
        model_admin.message_user(request, message, messages.SUCCESS)
    return started


def live_panel_context(run: Run, *, may_decide: bool) -> dict[str, Any]:
    """What live_run.js needs; everything it shows comes from the event stream."""
    return {
        "run_id": str(run.pk),
        "socket_path": f"/ws/runs/{run.pk}/",
        "api_url": reverse("run-detail", args=[run.pk]),
        "status": run.status,
        "status_label": run.get_status_display(),
        "status_labels": dict(RunStatus.choices),
        "may_decide": may_decide,
    }


class RunStepInline(admin.TabularInline):
    model = RunStep
    fields = [*STEP_FIELDS]
    readonly_fields = [*STEP_FIELDS]
    extra = 0
    can_delete = False
    ordering = ["index"]

    @admin.display(description="Payload")
    def pretty_payload(self, step: RunStep) -> SafeString:
        text = json.dumps(step.payload, indent=2, ensure_ascii=False, sort_keys=True, default=str)
        if len(text) > PAYLOAD_MAX_CHARS:
            text = f"{text[:PAYLOAD_MAX_CHARS]}\n… ({len(text) - PAYLOAD_MAX_CHARS} more chars)"
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto;">{}</pre>', text
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Runs are written only by the services: the admin views them and calls the verbs."""

    list_display = [
        "short_id",
        "status",
        "agent",
        "source",
        "created_by",
        "model",
        "duration",
        "total_tokens",
        "cost_usd",
        "created_at",
    ]
    list_display_links = ["short_id"]
    list_filter = ["status", "source", "agent", "created_at"]
    list_select_related = ["agent", "created_by"]
    # "^id" matches the short id the list shows, and a whole pasted id.
    search_fields = ["^id", "input", "agent__slug"]
    date_hierarchy = "created_at"
    inlines = [RunStepInline]
    fieldsets = [
        (None, {"fields": [*RUN_FIELDS]}),
        ("Outcome", {"fields": [*OUTCOME_FIELDS]}),
        ("Usage", {"fields": [*USAGE_FIELDS]}),
        ("Timing", {"fields": [*TIMING_FIELDS]}),
        ("Origin", {"fields": [*ORIGIN_FIELDS]}),
    ]
    readonly_fields = [*RUN_FIELDS, *OUTCOME_FIELDS, *USAGE_FIELDS, *TIMING_FIELDS, *ORIGIN_FIELDS]
    actions = ["run_again", "cancel"]

    def get_urls(self) -> list[URLPattern]:
        start = path("start/", self.admin_site.admin_view(self.start_view), name="runs_run_start")
        return [start, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {**(extra_context or {}), "can_start_run": self.has_start_permission(request)}
        return super().changelist_view(request, context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Run | None = None,
    ) -> HttpResponse:
        if obj is not None:
            may_decide = self.may_decide_approvals(request)
            context["live"] = live_panel_context(obj, may_decide=may_decide)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def may_decide_approvals(self, request: HttpRequest) -> bool:
        """The live page offers Approve/Deny to whoever the Approvals admin offers them to."""
        approvals = cast("ApprovalAdmin", self.admin_site.get_model_admin(Approval))
        return approvals.has_view_permission(request) and approvals.has_decide_permission(request)

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """Starts one run of an agent and opens its live page."""
        if not self.has_start_permission(request):
            raise PermissionDenied
        form = AdminStartRunForm(request.POST if request.method == "POST" else None)
        run = self._start(request, form) if form.is_valid() else None
        if run is not None:
            return HttpResponseRedirect(reverse("admin:runs_run_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a run",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/runs/run/start.html", context)

    def _start(self, request: HttpRequest, form: AdminStartRunForm) -> Run | None:
        try:
            run = services.run_start(
                request=form.start_request(), actor=request.user, source=RunSource.ADMIN
            )
        except ConductorError as exc:
            form.add_error(None, exc.message)
            return None
        self.message_user(request, f"Started run {short_id(run)} of {run.agent}.", messages.SUCCESS)
        return run

    @admin.display(description="Run", ordering="id")
    def short_id(self, run: Run) -> str:
        return short_id(run)

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, run: Run) -> str:
        return human_duration(run.duration_ms)

    @admin.display(description="Events")
    def event_count(self, run: Run) -> int:
        return run.events.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    # The actions' permissions: the admin itself never adds or changes a run.
    def has_start_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("runs.add_run")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("runs.change_run")

    @admin.action(description="Run again", permissions=["start"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        runs = queryset.select_related("agent", "instance", "conversation", "screenplay")
        start_runs(self, request, ((short_id(run), RunRequest.again(run)) for run in runs))

    @admin.action(description="Cancel selected runs", permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        cancelled, stopping = 0, 0
        for run in queryset:
            try:
                run = services.run_cancel(run=run, actor=request.user)
            except RunNotCancellable:
                self.message_user(request, f"{short_id(run)}: already finished.", messages.ERROR)
            except ConductorError as exc:
                self.message_user(request, f"{short_id(run)}: {exc.message}", messages.ERROR)
            else:
                cancelled += run.status == RunStatus.CANCELLED
                stopping += run.status != RunStatus.CANCELLED
        if cancelled or stopping:
            message = f"Cancelled {cancelled} run(s); asked {stopping} running run(s) to stop."
            self.message_user(request, message, messages.SUCCESS)


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    list_display = ["requested_at", "tool", "status", "run", "expires_at", "resolved_by"]
    list_filter = ["status", "tool", "requested_at"]
    list_select_related = ["run", "resolved_by"]
    search_fields = ["tool", "run__id", "reason"]
    readonly_fields = [field.name for field in Approval._meta.fields]
    actions = ["approve", "deny"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_staff)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Approval], decision: str) -> None:
        done = 0
        for approval in queryset:
            try:
                approval_resolve(
                    approval=approval,
                    decision=decision,
                    reason="decided in the admin",
                    actor=request.user,
                )
                done += 1
            except ConductorError as exc:
                self.message_user(request, f"{approval.tool}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(
                request, f"{decision.capitalize()}d {done} approval(s).", messages.SUCCESS
            )

    @admin.action(description="Approve selected tool calls", permissions=["decide"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Approval]) -> None:
        self._decide(request, queryset, "approve")

    @admin.action(description="Deny selected tool calls", permissions=["decide"])
    def deny(self, request: HttpRequest, queryset: QuerySet[Approval]) -> None:
        self._decide(request, queryset, "deny")
