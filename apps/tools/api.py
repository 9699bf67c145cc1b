"""The tool registry over HTTP: GET /api/tools/."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.runtime.tools import PluginRegistry, ToolCategory, ToolDefinition, registry


class ToolInfoSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    parameters = serializers.JSONField(help_text="The JSON Schema of the tool's arguments.")
    category = serializers.ChoiceField(choices=[c.value for c in ToolCategory])
    requires_approval = serializers.BooleanField()
    # Shadows Field.source for the type checker only; DRF collects it as a field.
    source = serializers.CharField(  # type: ignore[assignment]
        help_text='"core", or the name of the plugin that added it.'
    )


class FailedPluginSerializer(serializers.Serializer):
    name = serializers.CharField()
    source = serializers.CharField(  # type: ignore[assignment]
        help_text="The entry point or the path it was loaded from."
    )
    error = serializers.CharField()


class ToolListSerializer(serializers.Serializer):
    results = ToolInfoSerializer(many=True)
    failed_plugins = FailedPluginSerializer(
        many=True, help_text="Plugins that failed to load. Staff only: empty for other users."
    )


class ToolListQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=[c.value for c in ToolCategory], required=False)


class ToolListView(APIView):
    @extend_schema(parameters=[ToolListQuerySerializer], responses=ToolListSerializer)
    def get(self, request: Request) -> Response:
        """Lists every registered tool, by name; the whole list, not paginated."""
        params = ToolListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        category = params.validated_data.get("category")
        body = {
            "results": _tool_infos(registry, category),
            "failed_plugins": registry.failed_plugins() if request.user.is_staff else [],
        }
        return Response(ToolListSerializer(body).data)


def _tool_infos(tools: PluginRegistry, category: str | None) -> list[dict[str, Any]]:
    definitions = tools.definitions()
    if category is not None:
        definitions = [d for d in definitions if d.category == category]
    return [_tool_info(d, tools.source_of(d.name)) for d in definitions]


def _tool_info(definition: ToolDefinition, source: str) -> dict[str, Any]:
    return {
        "name": definition.name,
        "description": definition.description,
        "parameters": definition.parameters,
        "category": definition.category.value,
        "requires_approval": definition.requires_approval,
        "source": source,
    }
