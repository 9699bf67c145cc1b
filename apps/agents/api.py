from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents import selectors, services
from apps.agents.models import AGENT_SLUG_RE, Agent
from apps.core.openapi import error_responses
from apps.core.permissions import ModelPermissions
from apps.core.serializers import string_list_field
from apps.mcp_client.configs import validate_mcp_configs
from apps.personas.models import Persona
from apps.runs.api.runs import AgentRunSerializerMixin
from apps.runtime.providers import DEMO_MODEL


class AgentSerializer(serializers.ModelSerializer):
    persona = serializers.PrimaryKeyRelatedField(
        queryset=Persona.objects.all(), allow_null=True, required=False
    )
    persona_name = serializers.CharField(source="persona.name", read_only=True, allow_null=True)
    tags = string_list_field(required=False)
    tools = string_list_field(required=False)
    pre_approved_tools = string_list_field(
        required=False, help_text="Tools this agent may call without a human approval."
    )
    fallback_models = string_list_field(max_length=200, required=False)
    mcp_configs = serializers.DictField(
        required=False,
        validators=[validate_mcp_configs],
        help_text='External MCP servers by registry name: {"servers": {"github": {}}}.',
    )
    offline_demo = serializers.SerializerMethodField(
        help_text="True when the model is Conductor's offline demo model, not a real LLM."
    )

    class Meta:
        model = Agent
        fields = [
            "id", "slug", "name", "emoji", "description", "group", "tags",
            "persona", "persona_name", "model", "fallback_models", "tools", "pre_approved_tools",
            "mcp_configs",
            "max_steps", "is_active", "offline_demo", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_offline_demo(self, agent: Agent) -> bool:
        return agent.model == DEMO_MODEL


class AgentFilter(filters.FilterSet):
    tag = filters.CharFilter(method="filter_tag", label="Agents carrying this tag")

    class Meta:
        model = Agent
        fields = ["group", "is_active", "persona", "model"]

    def filter_tag(self, queryset: QuerySet[Agent], name: str, value: str) -> QuerySet[Agent]:
        # JSON containment is not portable to SQLite; tags lists are short.
        rows = queryset.select_related(None).values_list("pk", "tags")
        ids = [pk for pk, tags in rows if value in tags]
        return queryset.filter(pk__in=ids)


class SuggestRequestSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=4000)
    current_agent = serializers.RegexField(AGENT_SLUG_RE, max_length=64, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)

    def validate_current_agent(self, slug: str) -> Agent:
        agent = Agent.objects.filter(slug=slug).first()
        if agent is None:
            raise serializers.ValidationError(f"No agent with slug {slug!r}.")
        return agent


class SuggestionSerializer(serializers.Serializer):
    slug = serializers.CharField(source="agent.slug")
    name = serializers.CharField(source="agent.name")
    emoji = serializers.CharField(source="agent.emoji")
    score = serializers.FloatField()
    reason = serializers.CharField()


class SuggestResponseSerializer(serializers.Serializer):
    suggested = SuggestionSerializer(allow_null=True)
    alternatives = SuggestionSerializer(many=True)
    current_is_best = serializers.BooleanField()


@extend_schema_view(destroy=extend_schema(responses={204: None, **error_responses(409)}))
class AgentViewSet(AgentRunSerializerMixin, viewsets.ModelViewSet):
    """Agent templates, looked up by slug."""

    serializer_class = AgentSerializer
    permission_classes = [ModelPermissions]
    lookup_field = "slug"
    lookup_value_regex = AGENT_SLUG_RE.strip("^$")
    filterset_class = AgentFilter
    search_fields = ["slug", "name", "description", "group"]
    ordering_fields = ["slug", "name", "group", "created_at", "updated_at", "max_steps"]

    def get_queryset(self) -> QuerySet[Agent]:
        return Agent.objects.select_related("persona").order_by("group", "name", "pk")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.agent_create(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.agent_update(
            agent=cast(Agent, serializer.instance),
            actor=self.request.user,
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Agent) -> None:
        services.agent_delete(agent=instance, actor=self.request.user)

    @extend_schema(request=SuggestRequestSerializer, responses=SuggestResponseSerializer)
    @action(detail=False, methods=["post"], permission_classes=[IsAuthenticated])
    def suggest(self, request: Request) -> Response:
        """Ranks active agents against a message by full-text match."""
        params = SuggestRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        body = selectors.agent_suggest(**params.validated_data)
        return Response(SuggestResponseSerializer(body).data, status=status.HTTP_200_OK)
