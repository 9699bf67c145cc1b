"""Serializers and views of /api/councilors/: shapes in and out, services do the work.

Councilors are shared team objects: every signed-in user reads them all; writing
needs the councilors model permissions the Editors group holds (promote: add,
demote: delete, everything else: change).
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents.models import Agent
from apps.core.openapi import error_responses
from apps.core.serializers import SlugLookupField, StrictCharField
from apps.core.validators import validate_absolute_path
from apps.councilors import schedules, selectors, services
from apps.councilors.models import Councilor
from apps.screenplays.models import Screenplay

WRITE_PERMISSIONS = {
    "promote": "councilors.add_councilor",
    "demote": "councilors.delete_councilor",
}


class CouncilorPermissions(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return user.has_perm(WRITE_PERMISSIONS.get(view.action, "councilors.change_councilor"))


class CouncilorSerializer(serializers.ModelSerializer):
    """Output, and the input of PATCH: the schedule is checked as a whole."""

    # Text is text: a number or boolean is refused, not stringified.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
    }

    agent = serializers.CharField(source="instance.agent.slug", read_only=True)
    conversation = serializers.IntegerField(source="instance.conversation_id", read_only=True)
    screenplay = serializers.IntegerField(source="instance.screenplay_id", read_only=True)
    context_screenplays = serializers.PrimaryKeyRelatedField(
        queryset=Screenplay.objects.all(), many=True, required=False
    )
    schedule_description = serializers.SerializerMethodField()
    next_run_at = serializers.SerializerMethodField()
    last_severity = serializers.CharField(read_only=True, allow_null=True, default=None)
    periodic_task = serializers.CharField(source="periodic_task.name", read_only=True)

    class Meta:
        model = Councilor
        fields = [
            "id", "title", "agent", "instance", "conversation", "screenplay",
            "schedule_type", "schedule_value", "schedule_description", "timezone", "enabled",
            "task_name", "task_prompt", "context_screenplays", "output_format",
            "notify_on_success", "notify_on_warning", "notify_on_error", "notify_channels",
            "display_name", "avatar_url", "color",
            "next_run_at", "last_severity", "periodic_task", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "instance", "enabled", "created_at", "updated_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_schedule_description(self, councilor: Councilor) -> str:
        return schedules.describe(councilor.schedule)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))  # None while paused
    def get_next_run_at(self, councilor: Councilor) -> str | None:
        when = selectors.councilor_next_run_at(councilor)
        return serializers.DateTimeField().to_representation(when) if when else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = cast(Councilor | None, self.instance)
        schedule_type = attrs.get("schedule_type", getattr(current, "schedule_type", None))
        value = attrs.get("schedule_value", getattr(current, "schedule_value", None))
        if (
            current is not None
            and "schedule_type" in attrs
            and "schedule_value" not in attrs
            and schedule_type != current.schedule_type
        ):
            raise serializers.ValidationError(
                {"schedule_value": "A new schedule_type needs its schedule_value."}
            )
        try:
            schedules.parse_schedule(cast(str, schedule_type), cast(str, value))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class PromoteSerializer(CouncilorSerializer):
    agent = SlugLookupField(  # type: ignore[assignment]
        slug_field="slug", queryset=Agent.objects.all(), help_text="The agent's slug."
    )
    enabled = serializers.BooleanField(default=True)  # type: ignore[assignment]
    working_directory = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=500,
        trim_whitespace=False,
        validators=[validate_absolute_path],
        help_text="The new screenplay's working directory (the runs' cwd). Default: a setting.",
    )

    class Meta(CouncilorSerializer.Meta):
        fields = [*CouncilorSerializer.Meta.fields, "working_directory"]
        read_only_fields = ["id", "instance", "created_at", "updated_at"]


class ReportSerializer(serializers.Serializer):
    recent_runs = serializers.ListField(child=serializers.DictField())
    total_runs = serializers.IntegerField()
    success_rate = serializers.FloatField(allow_null=True)
    last_run = serializers.DictField(allow_null=True)
    next_run_at = serializers.DateTimeField(allow_null=True)
    skipped_ticks = serializers.IntegerField()
    recent_ticks = serializers.ListField(child=serializers.DictField())


TICK_SCHEMA = inline_serializer(
    "CouncilorExecuteNow",
    fields={
        "tick": serializers.IntegerField(),
        "run_id": serializers.UUIDField(),
        "status": serializers.CharField(),
    },
)
DEMOTE_SCHEMA = inline_serializer(
    "CouncilorDemoted",
    fields={
        "demoted": serializers.IntegerField(),
        "kept": serializers.DictField(child=serializers.IntegerField(allow_null=True)),
    },
)


class SchedulerJobSerializer(serializers.Serializer):
    councilor_id = serializers.IntegerField()
    title = serializers.CharField()
    periodic_task = serializers.CharField()
    task = serializers.CharField()
    schedule = serializers.CharField()
    schedule_type = serializers.CharField()
    schedule_value = serializers.CharField()
    timezone = serializers.CharField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    total_run_count = serializers.IntegerField()
    next_run_at = serializers.DateTimeField()


class CouncilorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Agent instances that run a task prompt on a schedule (django-celery-beat)."""

    serializer_class = CouncilorSerializer
    permission_classes = [CouncilorPermissions]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"[0-9]+"
    filterset_fields = ["enabled", "schedule_type", "output_format"]
    search_fields = ["title", "task_name", "display_name"]
    ordering_fields = ["id", "title", "created_at", "updated_at"]
    ordering = ["title", "id"]

    def get_queryset(self) -> QuerySet[Councilor]:
        if getattr(self, "swagger_fake_view", False):
            return Councilor.objects.none()
        return selectors.councilors_with_details()

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        councilor = services.councilor_update(
            councilor=cast(Councilor, serializer.instance),
            actor=self.request.user,
            **serializer.validated_data,
        )
        serializer.instance = self.get_queryset().get(pk=councilor.pk)

    def _respond(self, councilor: Councilor, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=councilor.pk)
        return Response(CouncilorSerializer(fresh).data, status=code)

    @extend_schema(
        request=PromoteSerializer,
        responses={201: CouncilorSerializer},
        description=(
            "Creates the councilor's screenplay, conversation, agent instance, the councilor "
            "and its PeriodicTask in one transaction. 400 on an invalid schedule, time zone "
            "or prompt; nothing is created then."
        ),
    )
    @action(detail=False, methods=["post"])
    def promote(self, request: Request) -> Response:
        serializer = PromoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        councilor = services.councilor_promote(actor=request.user, **serializer.validated_data)
        return self._respond(councilor, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=DEMOTE_SCHEMA,
        description=(
            "Removes the councilor and its PeriodicTask. Its instance, conversation, "
            "screenplay and runs are kept as history; their ids are returned."
        ),
    )
    @action(detail=True, methods=["post"])
    def demote(self, request: Request, pk: str | None = None) -> Response:
        councilor = self.get_object()
        kept = services.councilor_demote(councilor=councilor, actor=request.user)
        return Response({"demoted": councilor.pk, "kept": kept})

    @extend_schema(request=None, responses=CouncilorSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Disables the PeriodicTask: beat stops sending ticks. next_run_at becomes null."""
        councilor = services.councilor_pause(councilor=self.get_object(), actor=request.user)
        return self._respond(councilor)

    @extend_schema(request=None, responses=CouncilorSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Enables the PeriodicTask again; an interval is measured from now."""
        councilor = services.councilor_resume(councilor=self.get_object(), actor=request.user)
        return self._respond(councilor)

    @extend_schema(
        request=None,
        responses={202: TICK_SCHEMA, **error_responses(409, 503)},
        description=(
            "Starts a run now. 409 councilor_busy while the previous run is still going "
            "(the skipped tick is recorded); 409 councilor_unavailable when its instance "
            "is deleted or its agent inactive."
        ),
    )
    @action(detail=True, methods=["post"], url_path="execute-now")
    def execute_now(self, request: Request, pk: str | None = None) -> Response:
        tick = services.councilor_execute_now(councilor=self.get_object(), actor=request.user)
        run = tick.run
        assert run is not None
        run.refresh_from_db(fields=["status"])
        body = {"tick": tick.pk, "run_id": str(run.pk), "status": run.status}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ReportSerializer)
    @action(detail=True, methods=["get"])
    def reports(self, request: Request, pk: str | None = None) -> Response:
        """Recent runs and ticks (skipped ones too), totals, success rate, next run time."""
        report = selectors.councilor_report(self.get_object())
        return Response(ReportSerializer(report).data)

    @extend_schema(responses=SchedulerJobSerializer(many=True))
    @action(detail=False, methods=["get"], url_path="scheduler/jobs", filter_backends=[])
    def scheduler_jobs(self, request: Request) -> Response:
        """What beat will run: the enabled councilors' periodic tasks, soonest first."""
        jobs = selectors.scheduler_jobs()
        page: list[Any] | None = self.paginate_queryset(jobs)  # type: ignore[arg-type]
        data = SchedulerJobSerializer(page if page is not None else jobs, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)
