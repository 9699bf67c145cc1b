"""Serializers and views of /api/conversations/: shapes in and out.

Who may do what: a conversation is reachable by the users who can see it
(``conversations_visible_to``: staff see all, anyone else their own) and by nobody
else, who gets 404 on every route. Whoever can see a conversation can act on it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.conversations import selectors, services
from apps.conversations.models import CONTEXT_MAX_CHARS, Conversation
from apps.core.api_utils import wants_deleted
from apps.core.openapi import error_responses
from apps.core.serializers import StrictCharField
from apps.core.validators import validate_no_control_characters
from apps.instances.models import AgentInstance
from apps.screenplays.models import Screenplay

TITLE_MAX_LENGTH = 200
MAX_CHAIN_DEPTH = 10
MAX_REORDER_ITEMS = 1000
MAX_ID = 2**63 - 1
MAX_DISPLAY_ORDER = 2**31 - 1


def acting_user(request: Request) -> AbstractBaseUser:
    assert isinstance(request.user, AbstractBaseUser), "views require authentication"
    return request.user


def title_field() -> StrictCharField:
    return StrictCharField(max_length=TITLE_MAX_LENGTH, validators=[validate_no_control_characters])


def context_field(**kwargs: Any) -> StrictCharField:
    return StrictCharField(
        max_length=CONTEXT_MAX_CHARS,
        allow_blank=True,
        trim_whitespace=False,
        validators=[validate_no_control_characters],
        **kwargs,
    )


# --- Conversations: shapes ---------------------------------------------------------


class ConversationParticipantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agent_slug = serializers.CharField(source="agent.slug")
    agent_name = serializers.CharField(source="agent.name")
    agent_emoji = serializers.CharField(source="agent.emoji")


class ConversationSerializer(serializers.ModelSerializer):
    """Output shape; expects ``selectors.conversations_with_details`` rows."""

    participants = ConversationParticipantSerializer(many=True, read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )
    message_count = serializers.IntegerField()

    class Meta:
        model = Conversation
        fields = [
            "id", "title", "context", "screenplay", "participants", "active_agent",
            "max_chain_depth", "auto_delegate", "display_order", "message_count",
            "is_deleted", "deleted_at", "created_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ConversationWriteSerializer(serializers.Serializer):
    """Create and update. The active agent has its own route (``active-agent``)."""

    title = title_field()
    context = context_field(required=False)  # type: ignore[assignment]
    screenplay = serializers.PrimaryKeyRelatedField(
        queryset=Screenplay.objects.all(), allow_null=True, required=False
    )
    max_chain_depth = serializers.IntegerField(
        min_value=1, max_value=MAX_CHAIN_DEPTH, required=False
    )
    auto_delegate = serializers.BooleanField(required=False)
    display_order = serializers.IntegerField(
        min_value=0, max_value=MAX_DISPLAY_ORDER, required=False
    )


class ConversationTitleSerializer(serializers.Serializer):
    title = title_field()


class ConversationContextSerializer(serializers.Serializer):
    context = context_field()  # type: ignore[assignment]


class ConversationContextUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A UTF-8 .md or .markdown file of at most 50 KB.")


class ConversationSettingsSerializer(serializers.Serializer):
    max_chain_depth = serializers.IntegerField(
        min_value=1, max_value=MAX_CHAIN_DEPTH, required=False
    )
    auto_delegate = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Send max_chain_depth, auto_delegate or both.")
        return attrs


class ConversationOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    display_order = serializers.IntegerField(min_value=0, max_value=MAX_DISPLAY_ORDER)


class ConversationReorderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=ConversationOrderSerializer(), min_length=1, max_length=MAX_REORDER_ITEMS
    )


class ConversationActiveAgentSerializer(serializers.Serializer):
    instance = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=AgentInstance.objects.all(), allow_null=True
    )


class ConversationCloneSerializer(serializers.Serializer):
    conversation = ConversationSerializer()
    instance_id_map = serializers.DictField(
        child=serializers.IntegerField(), help_text="Old instance id (as a string) → new id."
    )


# --- Conversations: views ----------------------------------------------------------


def validated_body(
    serializer_class: type[serializers.Serializer], request: Request
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


@extend_schema_view(
    create=extend_schema(
        request=ConversationWriteSerializer, responses={201: ConversationSerializer}
    ),
    update=extend_schema(request=ConversationWriteSerializer),
    partial_update=extend_schema(request=ConversationWriteSerializer),
    destroy=extend_schema(
        description="Soft delete: hides the conversation, its messages and its instances."
    ),
)
class ConversationViewSet(viewsets.ModelViewSet):
    """Conversations the caller can see: staff see all, anyone else their own."""

    serializer_class = ConversationSerializer
    lookup_value_regex = r"[0-9]+"
    filterset_fields = ["screenplay", "auto_delegate"]
    search_fields = ["title"]
    ordering_fields = ["display_order", "updated_at", "created_at", "title"]

    def get_queryset(self) -> QuerySet[Conversation]:
        if getattr(self, "swagger_fake_view", False):
            return Conversation.objects.none()
        include_deleted = self.action == "restore" or (
            self.action in {"list", "retrieve"} and wants_deleted(self.request)
        )
        visible = selectors.conversations_visible_to(
            self.request.user, include_deleted=include_deleted
        )
        return selectors.conversations_with_details(visible)

    def _respond(self, conversation: Conversation, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.conversations_with_details(Conversation.all_objects.all())
        return Response(ConversationSerializer(fresh.get(pk=conversation.pk)).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = validated_body(ConversationWriteSerializer, request)
        conversation = services.conversation_create(actor=acting_user(request), **data)
        return self._respond(conversation, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        conversation = self.get_object()  # 404 before 400: a body never reveals a row
        serializer = ConversationWriteSerializer(
            data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_update(
            conversation=conversation, actor=acting_user(request), **serializer.validated_data
        )
        return self._respond(conversation)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.conversation_soft_delete(conversation=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: ConversationSerializer, **error_responses(409)},
        description="Reverses a soft delete. 409 (conversation_not_deleted) if it is alive.",
    )
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        conversation = services.conversation_restore(
            conversation=self.get_object(), actor=request.user
        )
        return self._respond(conversation)

    @extend_schema(request=ConversationTitleSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["patch"])
    def title(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, ConversationTitleSerializer)

    @extend_schema(request=ConversationContextSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["patch"])
    def context(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, ConversationContextSerializer)

    @extend_schema(request=ConversationSettingsSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["patch"], url_path="settings")
    def chain_settings(self, request: Request, pk: str | None = None) -> Response:
        return self._update(request, ConversationSettingsSerializer)

    def _update(self, request: Request, serializer_class: type[serializers.Serializer]) -> Response:
        conversation = self.get_object()
        conversation = services.conversation_update(
            conversation=conversation,
            actor=request.user,
            **validated_body(serializer_class, request),
        )
        return self._respond(conversation)

    @extend_schema(
        request={"multipart/form-data": ConversationContextUploadSerializer},
        responses=ConversationSerializer,
        description="Replaces the context with an uploaded markdown file. "
        "400 invalid_upload: not .md/.markdown, over 50 KB, not UTF-8, or binary.",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="context/upload",
        parser_classes=[MultiPartParser, FormParser],
    )
    def context_upload(self, request: Request, pk: str | None = None) -> Response:
        conversation = self.get_object()
        upload = validated_body(ConversationContextUploadSerializer, request)["file"]
        conversation = services.conversation_context_upload(
            conversation=conversation, upload=upload, actor=request.user
        )
        return self._respond(conversation)

    @extend_schema(
        request=ConversationActiveAgentSerializer,
        responses=ConversationSerializer,
        description="400 foreign_instance for an instance of another conversation.",
    )
    @action(detail=True, methods=["put"], url_path="active-agent")
    def active_agent(self, request: Request, pk: str | None = None) -> Response:
        conversation = self.get_object()
        instance = validated_body(ConversationActiveAgentSerializer, request)["instance"]
        conversation = services.conversation_set_active_agent(
            conversation=conversation, instance=instance, actor=request.user
        )
        return self._respond(conversation)

    @extend_schema(request=None, responses={201: ConversationCloneSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, pk: str | None = None) -> Response:
        copy, id_map = services.conversation_clone(
            conversation=self.get_object(), actor=acting_user(request)
        )
        fresh = selectors.conversations_with_details(Conversation.objects.all()).get(pk=copy.pk)
        body = {
            "conversation": ConversationSerializer(fresh).data,
            "instance_id_map": {str(old): new for old, new in id_map.items()},
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ConversationReorderSerializer,
        responses=ConversationSerializer(many=True),
        description="400 invalid_reorder when an id is unknown, deleted or not yours.",
    )
    @action(detail=False, methods=["patch"], pagination_class=None, filter_backends=[])
    def reorder(self, request: Request) -> Response:
        order = validated_body(ConversationReorderSerializer, request)["order"]
        pairs = [(item["id"], item["display_order"]) for item in order]
        reordered = services.conversations_reorder(order=pairs, actor=request.user)
        rows = selectors.conversations_with_details(Conversation.objects.all()).filter(
            pk__in=[conversation.pk for conversation in reordered]
        )
        return Response(ConversationSerializer(rows, many=True).data)
