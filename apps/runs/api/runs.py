from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents.models import Agent
from apps.core.api_utils import ListFromRows
from apps.core.filters import UtcDateTimeFilter
from apps.core.openapi import error_responses
from apps.runs import approvals, selectors, services
from apps.runs.api.serializers import (
    RUN_LIST_ROWS,
    AgentRunCreateSerializer,
    ApprovalDecisionSerializer,
    ApprovalSerializer,
    RunCreateSerializer,
    RunDetailSerializer,
    RunSerializer,
)
from apps.runs.models import Approval, Run, RunSource, RunStatus, RunStep


class RunFilter(filters.FilterSet):
    agent = filters.CharFilter(field_name="agent__slug")
    status = filters.MultipleChoiceFilter(choices=RunStatus.choices)
    source = filters.ChoiceFilter(choices=RunSource.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Run
        fields = ["agent", "status", "source", "conversation", "instance"]


def start_run(request: Request, agent: Agent, serializer: RunCreateSerializer) -> Response:
    run = services.run_start(
        request=serializer.run_request(agent), actor=request.user, source=RunSource.API
    )
    return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RunViewSet(
    ListFromRows,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Runs: yours, or everyone's for staff. Another user's run answers 404."""

    permission_classes = [IsAuthenticated]
    list_rows = RUN_LIST_ROWS
    filterset_class = RunFilter
    ordering_fields = ["created_at", "finished_at", "cost_usd", "total_tokens", "duration_ms"]
    search_fields = ["input", "result"]

    def get_queryset(self) -> QuerySet[Run]:
        runs = selectors.runs_visible_to(self.request.user)
        if self.action == "retrieve":
            steps = RunStep.objects.order_by("index")
            approvals = Approval.objects.select_related("resolved_by").order_by("requested_at")
            runs = runs.prefetch_related(
                Prefetch("steps", queryset=steps), Prefetch("approvals", queryset=approvals)
            )
        return runs

    def get_serializer_class(self) -> type:
        if self.action == "create":
            return AgentRunCreateSerializer
        return RunDetailSerializer if self.action == "retrieve" else RunSerializer

    @extend_schema(
        request=AgentRunCreateSerializer, responses={202: RunSerializer, **error_responses(503)}
    )
    def create(self, request: Request) -> Response:
        serializer = AgentRunCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return start_run(request, serializer.validated_data["resolved_agent"], serializer)

    @extend_schema(request=None, responses={202: RunSerializer, **error_responses(409)})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = services.run_cancel(run=self.get_object(), actor=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=ApprovalDecisionSerializer,
        responses={200: ApprovalSerializer, **error_responses(409, 503)},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"approvals/(?P<approval_id>[0-9a-fA-F-]{36})",
    )
    def approvals(self, request: Request, pk: str | None = None, approval_id: str = "") -> Response:
        """Approve or deny a pending tool call (staff only); the run then resumes."""
        run = self.get_object()
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can approve or deny tool calls.")
        approval = get_object_or_404(Approval, pk=approval_id, run=run)
        decision = ApprovalDecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        approval = approvals.approval_resolve(
            approval=approval, actor=request.user, **decision.validated_data
        )
        return Response(ApprovalSerializer(approval).data)


class AgentRunSerializerMixin:
    """Adds ``POST /api/agents/{slug}/run/`` to the agents viewset."""

    @extend_schema(
        request=RunCreateSerializer, responses={202: RunSerializer, **error_responses(503)}
    )
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def run(self, request: Request, slug: str | None = None) -> Response:
        agent = self.get_object()  # type: ignore[attr-defined]
        serializer = RunCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return start_run(request, agent, serializer)
