"""Serializers and views of /api/instances/: shapes in and out, services do the work."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.conversations.selectors import conversations_visible_to
from apps.core.api_utils import visible
from apps.core.openapi import error_responses
from apps.core.permissions import ModelPermissions
from apps.core.serializers import StrictCharField
from apps.core.validators import JsonObjectMaxBytes, validate_absolute_path
from apps.instances import selectors, services
from apps.instances.models import CONFIG_MAX_BYTES, AgentInstance, InstanceStatus
from apps.mcp_client.configs import validate_mcp_configs
from apps.screenplays.models import Screenplay

MAX_ID = 2**63 - 1
MAX_DISPLAY_ORDER = 2**31 - 1
MAX_REORDER_ITEMS = 1000
CWD_MAX_LENGTH = cast(int, AgentInstance._meta.get_field("cwd").max_length)


def config_field(**kwargs: Any) -> serializers.DictField:
    return serializers.DictField(validators=[JsonObjectMaxBytes(CONFIG_MAX_BYTES)], **kwargs)


def mcp_configs_field(**kwargs: Any) -> serializers.DictField:
    return serializers.DictField(
        validators=[JsonObjectMaxBytes(CONFIG_MAX_BYTES), validate_mcp_configs], **kwargs
    )


def cwd_field(**kwargs: Any) -> StrictCharField:
    # Whitespace is part of a path: trimming it would store a different directory.
    return StrictCharField(
        max_length=CWD_MAX_LENGTH,
        trim_whitespace=False,
        validators=[validate_absolute_path],
        **kwargs,
    )


class VisibleConversationField(serializers.PrimaryKeyRelatedField):
    """Only conversations the requesting user may read.

    Someone else's conversation gets the same error as a missing id, so that its
    existence does not leak.
    """

    def get_queryset(self) -> QuerySet[Conversation]:
        request = self.context.get("request")
        return conversations_visible_to(getattr(request, "user", None))


class AgentInstanceSerializer(serializers.ModelSerializer):
    agent = serializers.PrimaryKeyRelatedField(queryset=Agent.objects.all())
    agent_slug = serializers.CharField(source="agent.slug", read_only=True)
    agent_name = serializers.CharField(source="agent.name", read_only=True)
    agent_emoji = serializers.CharField(source="agent.emoji", read_only=True)
    screenplay = serializers.PrimaryKeyRelatedField(queryset=Screenplay.objects.all())
    conversation = VisibleConversationField(
        queryset=Conversation.objects.all(), allow_null=True, required=False
    )
    display_order = serializers.IntegerField(
        min_value=0,
        max_value=MAX_DISPLAY_ORDER,
        required=False,
        help_text="Omitted on create: placed after the screenplay's last instance.",
    )
    cwd = cwd_field(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=InstanceStatus.choices, required=False)
    config = config_field(required=False)
    mcp_configs = mcp_configs_field(required=False)
    average_duration_ms = serializers.FloatField(read_only=True, allow_null=True)
    success_rate = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = AgentInstance
        fields = [
            "id", "agent", "agent_slug", "agent_name", "agent_emoji", "screenplay",
            "conversation", "position", "display_order", "cwd", "status", "config",
            "mcp_configs", "is_deleted", "deleted_at",
            "task_count", "success_count", "error_count", "total_duration_ms",
            "average_duration_ms", "last_duration_ms", "last_exit_status",
            "last_completed_at", "success_rate", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "id", "is_deleted", "deleted_at",
            "task_count", "success_count", "error_count", "total_duration_ms",
            "last_duration_ms", "last_exit_status", "last_completed_at",
            "created_at", "updated_at",
        ]  # fmt: skip


class InstanceReorderItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    display_order = serializers.IntegerField(min_value=0, max_value=MAX_DISPLAY_ORDER)


class InstanceReorderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=InstanceReorderItemSerializer(), allow_empty=False, max_length=MAX_REORDER_ITEMS
    )


class CwdSerializer(serializers.Serializer):
    cwd = cwd_field()


class McpConfigsInputSerializer(serializers.Serializer):
    mcp_configs = mcp_configs_field()


class McpConfigViewsSerializer(serializers.Serializer):
    template = serializers.DictField()
    instance = serializers.DictField()
    combined = serializers.DictField()


RUN_CONTEXT_SCHEMA = inline_serializer(
    "InstanceRunContext",
    fields={
        "persona": inline_serializer(
            "InstanceRunContextPersona",
            fields={
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "content": serializers.CharField(),
            },
            allow_null=True,
        ),
        "screenplay": inline_serializer(
            "InstanceRunContextScreenplay",
            fields={
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "content": serializers.CharField(),
            },
        ),
        "history": inline_serializer(
            "InstanceRunContextMessage",
            fields={
                "id": serializers.IntegerField(),
                "type": serializers.CharField(),
                "agent": serializers.CharField(allow_null=True),
                "content": serializers.CharField(),
                "created_at": serializers.DateTimeField(),
            },
            many=True,
        ),
        "cwd": serializers.CharField(allow_null=True),
    },
)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.Filter):
    """An id: integers in range only, so a bad value is a 400, never a database error."""

    field_class = forms.IntegerField

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


class AgentInstanceFilter(filters.FilterSet):
    screenplay = IdFilter(field_name="screenplay_id")
    conversation = IdFilter(field_name="conversation_id")
    agent = IdFilter(field_name="agent_id")
    agent_slug = filters.CharFilter(field_name="agent__slug")
    status = filters.ChoiceFilter(choices=InstanceStatus.choices)
    is_deleted = filters.BooleanFilter()

    class Meta:
        model = AgentInstance
        fields = ["screenplay", "conversation", "agent", "agent_slug", "status", "is_deleted"]


class CanChangeInstance(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user and user.is_authenticated and user.has_perm("instances.change_agentinstance")
        )


@extend_schema_view(
    create=extend_schema(description="Omit display_order to place it after the last one."),
    destroy=extend_schema(description="Soft delete: the row is hidden, and can be restored."),
)
class AgentInstanceViewSet(viewsets.ModelViewSet):
    """Agents placed in screenplays. Statistics are read-only: only finished runs update them."""

    serializer_class = AgentInstanceSerializer
    permission_classes = [ModelPermissions]
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = AgentInstanceFilter
    ordering_fields = [
        "id",
        "display_order",
        "created_at",
        "updated_at",
        "task_count",
        "last_completed_at",
    ]
    ordering = ["display_order", "id"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[AgentInstance]:
        if getattr(self, "swagger_fake_view", False):
            return AgentInstance.objects.none()
        if self.action == "restore":
            queryset = AgentInstance.all_objects.all()
        elif self.request.method in SAFE_METHODS:
            queryset = visible(AgentInstance, self.request)
        else:
            queryset = AgentInstance.objects.all()
        return queryset.select_related("agent")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.instance_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.instance_update(
            instance=cast(AgentInstance, serializer.instance),
            actor=self.request.user,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: AgentInstance) -> None:
        services.instance_soft_delete(instance=instance, actor=self.request.user)

    def _respond(self, instance: AgentInstance) -> Response:
        return Response(self.get_serializer(instance).data)

    @extend_schema(
        request=None,
        responses={200: AgentInstanceSerializer, **error_responses(409)},
        description=(
            "Reverses a soft delete (needs the change permission). 409 instance_not_deleted "
            "if it is not deleted; 409 instance_parent_deleted while its screenplay or "
            "conversation is deleted."
        ),
    )
    @action(detail=True, methods=["post"], permission_classes=[CanChangeInstance])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        instance = services.instance_restore(instance=self.get_object(), actor=request.user)
        return self._respond(instance)

    @extend_schema(
        request=InstanceReorderSerializer,
        responses=AgentInstanceSerializer(many=True),
        description=(
            "Sets display_order of instances of one screenplay. 400 invalid_reorder for "
            "unknown, deleted or repeated ids, or ids of several screenplays."
        ),
    )
    @action(detail=False, methods=["patch"], pagination_class=None, filter_backends=[])
    def reorder(self, request: Request) -> Response:
        serializer = InstanceReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = [(item["id"], item["display_order"]) for item in serializer.validated_data["order"]]
        reordered = services.instances_reorder(order=order, actor=request.user)
        fresh = (
            self.get_queryset().filter(pk__in=[i.pk for i in reordered]).order_by(*self.ordering)
        )
        return Response(self.get_serializer(fresh, many=True).data)

    @extend_schema(request=CwdSerializer, responses=AgentInstanceSerializer)
    @action(detail=True, methods=["patch"])
    def cwd(self, request: Request, pk: str | None = None) -> Response:
        """Sets the working directory: an absolute path."""
        serializer = CwdSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = services.instance_set_cwd(
            instance=self.get_object(), actor=request.user, **serializer.validated_data
        )
        return self._respond(instance)

    @extend_schema(methods=["GET"], request=None, responses=McpConfigViewsSerializer)
    @extend_schema(
        methods=["PATCH"],
        request=McpConfigsInputSerializer,
        responses=McpConfigViewsSerializer,
        description="Replaces the instance's own MCP configs (a JSON object of at most 20 KB).",
    )
    @action(detail=True, methods=["get", "patch"], url_path="mcp-configs")
    def mcp_configs(self, request: Request, pk: str | None = None) -> Response:
        """The agent template's MCP configs, the instance's, and the two deep-merged."""
        instance = self.get_object()
        if request.method == "PATCH":
            serializer = McpConfigsInputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            instance = services.instance_set_mcp_configs(
                instance=instance, actor=request.user, **serializer.validated_data
            )
        return Response(McpConfigViewsSerializer(selectors.instance_mcp_configs(instance)).data)

    @extend_schema(
        responses=RUN_CONTEXT_SCHEMA,
        description="404 when the instance's conversation is not yours to read.",
    )
    @action(detail=True, methods=["get"], url_path="context")
    def run_context(self, request: Request, pk: str | None = None) -> Response:
        """What a run of this instance would start from: persona, screenplay, history, cwd."""
        instance = self.get_object()
        if not selectors.instance_conversation_visible_to(instance, request.user):
            raise Http404
        return Response(selectors.instance_run_context(instance), status=status.HTTP_200_OK)
