"""The gamification feed over HTTP: task events, and runs seen as tasks."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.activity import selectors, services
from apps.activity.auth import IsStaffOrService, ServiceTokenAuthentication
from apps.activity.exceptions import TaskEventTooLarge
from apps.activity.models import TaskEvent, TaskEventType
from apps.core.parsers import BoundedJSONParser
from apps.core.serializers import StrictBooleanField, StrictCharField, StrictIntegerField
from apps.runs.models import Run, RunSource, RunStatus, Severity
from apps.runs.selectors import runs_visible_to
from apps.streams.broadcast import TASK_SUMMARY_CHARS, one_line_summary

FEED_DEFAULT_LIMIT = 50
FEED_MAX_LIMIT = 200
TASKS_DEFAULT_LIMIT = 50
TASKS_MAX_LIMIT = 500
TASK_EVENT_MAX_BYTES = 8 * 1024
TASK_SORT_FIELDS = (
    "created_at",
    "started_at",
    "finished_at",
    "duration_ms",
    "status",
    "cost_usd",
    "total_tokens",
)

# --- A serializer that names the keys it does not know.


class ClosedSerializer(serializers.Serializer):
    """Refuses keys it does not declare, naming each one."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


# --- Task events -----------------------------------------------------------------


class TaskEventSerializer(serializers.ModelSerializer):
    # A plain string here: an enum in two components would collide with MessageType's
    # "type" in the schema's enum naming; the ingest request documents the choices.
    type = serializers.CharField(read_only=True, help_text="A task event type.")
    timestamp = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = TaskEvent
        fields = ["id", "type", "data", "timestamp"]
        read_only_fields = fields


class TaskEventFeedSerializer(serializers.Serializer):
    results = TaskEventSerializer(many=True)


class TaskEventFeedQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=FEED_MAX_LIMIT, default=FEED_DEFAULT_LIMIT
    )
    include_councilors = serializers.BooleanField(
        default=True, help_text="Events about councilor runs."
    )
    include_regular = serializers.BooleanField(default=True, help_text="Every other event.")


class TaskAgentSerializer(ClosedSerializer):
    slug = StrictCharField(max_length=100, required=False)
    name = StrictCharField(max_length=100, required=False, allow_blank=True)
    emoji = StrictCharField(max_length=16, required=False, allow_blank=True)


class TaskEventDataSerializer(ClosedSerializer):
    """What a service may say about a task; any other key is refused."""

    task_id = StrictCharField(
        max_length=100, required=False, help_text="The reporter's own id of the task."
    )
    agent = TaskAgentSerializer(required=False)
    status = StrictCharField(max_length=32, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    summary = StrictCharField(max_length=TASK_SUMMARY_CHARS, required=False, allow_blank=True)
    duration_ms = StrictIntegerField(min_value=0, required=False, allow_null=True)
    screenplay = StrictIntegerField(min_value=1, required=False, allow_null=True)
    conversation = StrictIntegerField(min_value=1, required=False, allow_null=True)
    instance = StrictIntegerField(min_value=1, required=False, allow_null=True)
    councilor = StrictBooleanField(required=False, help_text="About a councilor's run.")
    # Shadows Field.source for the type checker only; DRF collects it as a field.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=RunSource.choices, required=False, help_text='"councilor" counts as councilor.'
    )


class TaskEventIngestSerializer(ClosedSerializer):
    type = serializers.ChoiceField(choices=TaskEventType.choices)
    data = TaskEventDataSerializer(required=False, default=dict)  # type: ignore[assignment]


class TaskEventJSONParser(BoundedJSONParser):
    """JSON of at most ``TASK_EVENT_MAX_BYTES``: a larger body is refused unread (413)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read(TASK_EVENT_MAX_BYTES + 1)
        if len(raw) > TASK_EVENT_MAX_BYTES:
            raise TaskEventTooLarge(details={"max_bytes": TASK_EVENT_MAX_BYTES})
        return super().parse(BytesIO(raw), media_type, parser_context)


class TaskEventFeedView(APIView):
    @extend_schema(parameters=[TaskEventFeedQuerySerializer], responses=TaskEventFeedSerializer)
    def get(self, request: Request) -> Response:
        """The newest task events you may see, newest first: yours, everyone's; staff all."""
        params = TaskEventFeedQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        events = selectors.task_events_feed(user=request.user, **params.validated_data)
        return Response({"results": TaskEventSerializer(events, many=True).data})


class TaskEventIngestView(APIView):
    authentication_classes = [
        ServiceTokenAuthentication,
        TokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [IsStaffOrService]
    parser_classes = [TaskEventJSONParser]

    @extend_schema(request=TaskEventIngestSerializer, responses={201: TaskEventSerializer})
    def post(self, request: Request) -> Response:
        """Records a task event another service reports and broadcasts it to everyone."""
        serializer = TaskEventIngestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.task_event_ingest(
            type=serializer.validated_data["type"], data=dict(serializer.validated_data["data"])
        )
        return Response(TaskEventSerializer(event).data, status=status.HTTP_201_CREATED)


# --- Runs as tasks ---------------------------------------------------------------


def _bounded_int(request: Request, name: str, field: serializers.IntegerField) -> int | None:
    raw = request.query_params.get(name)
    if not raw:  # absent or empty: the default, as for the feed's query serializer
        return None
    try:
        return int(field.run_validation(raw))
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


class TaskPagination(LimitOffsetPagination):
    """``?limit=&offset=``; a limit above the maximum is a 400, not silently capped."""

    default_limit = TASKS_DEFAULT_LIMIT
    max_limit = TASKS_MAX_LIMIT

    def get_limit(self, request: Request) -> int:  # type: ignore[override]
        field = serializers.IntegerField(min_value=1, max_value=self.max_limit)
        limit = _bounded_int(request, self.limit_query_param, field)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        field = serializers.IntegerField(min_value=0)
        return _bounded_int(request, self.offset_query_param, field) or 0


class StableOrderingFilter(filters.OrderingFilter):
    """Runs without the value (no duration yet, say) come last on every database, either
    way; ties are broken newest first, so that offset pages neither repeat nor skip a run."""

    def filter(self, qs: QuerySet[Run], value: list[str] | None) -> QuerySet[Run]:
        if not value:
            return qs
        ordering = [_nulls_last(self.get_ordering_value(param)) for param in value]
        return qs.order_by(*ordering, "-created_at", "-pk")


def _nulls_last(name: str) -> OrderBy:
    if name.startswith("-"):
        return F(name[1:]).desc(nulls_last=True)
    return F(name).asc(nulls_last=True)


class TaskFilter(filters.FilterSet):
    agent = filters.CharFilter(field_name="agent__slug", help_text="The agent's slug.")
    status = filters.MultipleChoiceFilter(choices=RunStatus.choices)
    sort = StableOrderingFilter(fields=TASK_SORT_FIELDS, help_text="A field, or -field (desc).")

    class Meta:
        model = Run
        fields = ["agent", "status"]


class TaskSerializer(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug", read_only=True)
    agent_name = serializers.CharField(source="agent.name", read_only=True)
    agent_emoji = serializers.CharField(source="agent.emoji", read_only=True)
    summary = serializers.SerializerMethodField(help_text="The input, on one line, cut.")
    councilor = serializers.SerializerMethodField()
    details_url = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id", "agent", "agent_name", "agent_emoji", "status", "severity", "summary",
            "source", "councilor", "model", "created_at", "started_at", "finished_at",
            "duration_ms", "total_tokens", "cost_usd", "details_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_summary(self, run: Run) -> str:
        return one_line_summary(run.input)

    def get_councilor(self, run: Run) -> bool:
        return run.source == RunSource.COUNCILOR

    def get_details_url(self, run: Run) -> str:
        return f"/api/tasks/{run.pk}/details/"


class TaskDetailSerializer(TaskSerializer):
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta(TaskSerializer.Meta):
        fields = [
            *TaskSerializer.Meta.fields, "input", "result", "error", "context_mode", "cwd",
            "instance", "conversation", "screenplay", "prompt_tokens", "completion_tokens",
            "heartbeat_at", "created_by",
        ]  # fmt: skip
        read_only_fields = fields


class TaskListView(generics.ListAPIView):
    """Runs seen as tasks: yours, or everyone's for staff."""

    serializer_class = TaskSerializer
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = TaskFilter
    pagination_class = TaskPagination

    def get_queryset(self) -> QuerySet[Run]:
        return runs_visible_to(self.request.user).order_by("-created_at", "-pk")


class TaskDetailView(generics.RetrieveAPIView):
    """One task's full prompt, outcome, timing and usage; another user's run answers 404."""

    serializer_class = TaskDetailSerializer

    def get_queryset(self) -> QuerySet[Run]:
        return runs_visible_to(self.request.user)
