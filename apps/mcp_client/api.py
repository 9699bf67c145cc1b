"""REST API of the registry of external MCP servers: serializers validate, services write."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api_utils import validated
from apps.core.openapi import error_responses
from apps.core.permissions import IsStaff
from apps.core.serializers import StrictCharField
from apps.mcp_client import selectors, services
from apps.mcp_client.models import (
    MAX_ARG_LENGTH,
    MAX_ARGS,
    SERVER_NAME,
    SERVER_NAME_MAX_LENGTH,
    McpServer,
)

# Beyond this the cutoff would leave the calendar; nothing has been registered that long.
MAX_CLEANUP_SECONDS = 10 * 365 * 24 * 3600
READ_ACTIONS = {"list", "retrieve", "stats", "metadata"}


def _entries_field(help_text: str) -> serializers.DictField:
    return serializers.DictField(
        child=StrictCharField(trim_whitespace=False, allow_blank=True),
        required=False,
        help_text=help_text,
    )


class McpToolSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    input_schema = serializers.JSONField(read_only=True)


class McpServerSerializer(serializers.ModelSerializer):
    """Headers and env as stored: ``${MCP_...}`` references, never their values."""

    args = serializers.ListField(
        child=StrictCharField(trim_whitespace=False, allow_blank=True, max_length=MAX_ARG_LENGTH),
        max_length=MAX_ARGS,
        required=False,
        help_text="stdio: the command's arguments.",
    )
    env = _entries_field("stdio: extra environment; credentials as ${MCP_...} references.")
    headers = _entries_field("HTTP headers; credentials as ${MCP_...} references.")
    tools = McpToolSerializer(
        many=True, read_only=True, help_text="The tools it listed at its last successful check."
    )

    class Meta:
        model = McpServer
        fields = [
            "name", "description", "transport", "command", "args", "env", "url", "headers",
            "enabled", "requires_approval", "timeout_s",
            "status", "last_seen_at", "last_checked_at", "last_error", "tools",
            "disabled_by_cleanup", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "last_seen_at", "last_checked_at", "last_error",
            "disabled_by_cleanup", "created_at", "updated_at",
        ]  # fmt: skip


class McpHeartbeatSerializer(serializers.Serializer):
    name = StrictCharField(max_length=SERVER_NAME_MAX_LENGTH)


class McpCleanupSerializer(serializers.Serializer):
    older_than_s = serializers.IntegerField(
        min_value=1,
        max_value=MAX_CLEANUP_SECONDS,
        required=False,
        help_text="Disable servers not seen for this many seconds"
        " (default CONDUCTOR_MCP_STALE_SECONDS).",
    )


class McpCleanupResultSerializer(serializers.Serializer):
    disabled = serializers.ListField(child=serializers.CharField())


class McpServerCountsByStatusSerializer(serializers.Serializer):
    healthy = serializers.IntegerField()
    unhealthy = serializers.IntegerField()
    unknown = serializers.IntegerField()


class McpServerCountsByTransportSerializer(serializers.Serializer):
    stdio = serializers.IntegerField()
    http = serializers.IntegerField()


class McpServerStatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    enabled = serializers.IntegerField()
    disabled = serializers.IntegerField()
    by_status = McpServerCountsByStatusSerializer()
    by_transport = McpServerCountsByTransportSerializer()
    tools = serializers.IntegerField(help_text="Tools cached for the enabled servers.")
    stale = serializers.IntegerField(
        help_text="Enabled servers not seen within CONDUCTOR_MCP_STALE_SECONDS."
    )


class McpServerViewSet(viewsets.ModelViewSet):
    """External MCP servers, by name: anyone signed in reads; staff register and manage them."""

    serializer_class = McpServerSerializer
    lookup_field = "name"
    lookup_value_regex = SERVER_NAME.pattern.strip("^$")
    filterset_fields = ["transport", "enabled", "status"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "status", "last_seen_at", "created_at", "updated_at"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[McpServer]:
        return McpServer.objects.order_by("name")

    def get_permissions(self) -> list[BasePermission]:
        if self.action in READ_ACTIONS:
            return [IsAuthenticated()]
        return [IsStaff()]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.server_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.server_update(
            server=cast(McpServer, serializer.instance),
            actor=self.request.user,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: McpServer) -> None:
        services.server_delete(server=instance, actor=self.request.user)

    @extend_schema(
        request=McpHeartbeatSerializer,
        responses={200: McpServerSerializer, **error_responses(404)},
    )
    @action(detail=False, methods=["post"])
    def heartbeat(self, request: Request) -> Response:
        """The server is alive: marks it seen, and re-enables it if the cleanup disabled it."""
        name = validated(McpHeartbeatSerializer, request)["name"]
        server = services.server_heartbeat(name=name)
        return Response(McpServerSerializer(server).data)

    @extend_schema(request=None, responses=McpServerSerializer)
    @action(detail=True, methods=["post"])
    def health(self, request: Request, name: str) -> Response:
        """Connects now, lists its tools, and returns the server with its new status."""
        server = services.server_check_health(server=self.get_object())
        return Response(McpServerSerializer(server).data)

    @extend_schema(responses=McpServerStatsSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request: Request) -> Response:
        return Response(McpServerStatsSerializer(selectors.servers_stats()).data)

    @extend_schema(request=McpCleanupSerializer, responses=McpCleanupResultSerializer)
    @action(detail=False, methods=["post"])
    def cleanup(self, request: Request) -> Response:
        """Disables the enabled servers not seen lately; a heartbeat enables one again."""
        data = validated(McpCleanupSerializer, request)
        disabled = services.servers_cleanup(older_than_s=data.get("older_than_s"))
        return Response(McpCleanupResultSerializer({"disabled": disabled}).data)
