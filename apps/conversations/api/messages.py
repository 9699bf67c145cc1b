"""Serializers and views of /api/conversations/{id}/messages/.

The conversation in the URL must be one the caller can see (else 404), and a
message id must belong to it (else 404).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.agents.models import Agent
from apps.conversations import selectors, services
from apps.conversations.api.conversations import MAX_ID, acting_user, validated_body
from apps.conversations.models import (
    MESSAGE_MAX_CHARS,
    Conversation,
    Message,
    MessageStatus,
    MessageType,
)
from apps.core.api_utils import wants_deleted
from apps.core.serializers import SlugLookupField, StrictCharField
from apps.core.validators import validate_no_control_characters


class MessageSerializer(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug", read_only=True, allow_null=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Message
        fields = [
            "id", "type", "content", "status", "agent", "parent", "thread_root",
            "is_hidden", "is_deleted", "created_at", "created_by",
        ]  # fmt: skip
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=MessageType.choices, default=MessageType.USER)
    content = StrictCharField(
        max_length=MESSAGE_MAX_CHARS,
        trim_whitespace=False,
        validators=[validate_no_control_characters],
    )
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False)
    agent = SlugLookupField(
        slug_field="slug", queryset=Agent.objects.all(), allow_null=True, required=False
    )
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Message.objects.all(),
        allow_null=True,
        required=False,
        help_text="A message of the same conversation (400 foreign_message otherwise).",
    )


CONVERSATION_PK = OpenApiParameter(
    "conversation_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Conversation id."
)
THREAD_QUERY = OpenApiParameter(
    "thread",
    OpenApiTypes.INT,
    description="Only this message's thread: its root and every reply (400 if not here).",
)
INCLUDE_HIDDEN_QUERY = OpenApiParameter(
    "include_hidden",
    OpenApiTypes.BOOL,
    description="Hidden messages are listed (is_hidden=true) unless this is false.",
)
INCLUDE_DELETED_QUERY = OpenApiParameter(
    "include_deleted", OpenApiTypes.BOOL, description="Staff only: list deleted messages too."
)


def _flag(request: Request, name: str, *, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return bool(serializers.BooleanField().to_internal_value(raw))
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


@extend_schema_view(
    list=extend_schema(
        parameters=[CONVERSATION_PK, THREAD_QUERY, INCLUDE_HIDDEN_QUERY, INCLUDE_DELETED_QUERY]
    ),
    create=extend_schema(
        parameters=[CONVERSATION_PK],
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
    ),
    retrieve=extend_schema(parameters=[CONVERSATION_PK]),
    destroy=extend_schema(parameters=[CONVERSATION_PK], description="Soft delete."),
)
class MessageViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The messages of one conversation, oldest first."""

    serializer_class = MessageSerializer
    lookup_value_regex = r"[0-9]+"
    filter_backends: list[Any] = []

    def get_conversation(self) -> Conversation:
        if not hasattr(self, "_conversation"):
            visible = selectors.conversations_visible_to(self.request.user)
            self._conversation = get_object_or_404(visible, pk=self.kwargs["conversation_pk"])
        return self._conversation

    def get_queryset(self) -> QuerySet[Message]:
        if getattr(self, "swagger_fake_view", False):
            return Message.objects.none()
        if self.action != "list":
            return selectors.conversation_messages(conversation=self.get_conversation())
        return selectors.conversation_messages(
            conversation=self.get_conversation(),
            thread=self._thread(),
            include_hidden=_flag(self.request, "include_hidden", default=True),
            include_deleted=wants_deleted(self.request),
        )

    def _thread(self) -> Message | None:
        raw = self.request.query_params.get("thread")
        if raw is None:
            return None
        found = None
        if raw.isdigit() and int(raw) <= MAX_ID:
            found = Message.all_objects.filter(
                pk=int(raw), conversation=self.get_conversation()
            ).first()
        if found is None:
            raise serializers.ValidationError({"thread": [f"No message {raw} here."]})
        return found

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        conversation = self.get_conversation()
        data = validated_body(MessageCreateSerializer, request)
        message = services.message_create(
            conversation=conversation, actor=acting_user(request), **data
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Message) -> None:
        services.message_soft_delete(message=instance, actor=self.request.user)

    @extend_schema(parameters=[CONVERSATION_PK], request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._set_hidden(request, hidden=True)

    @extend_schema(parameters=[CONVERSATION_PK], request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def unhide(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._set_hidden(request, hidden=False)

    @extend_schema(parameters=[CONVERSATION_PK], request=None, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def toggle(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        message = services.message_toggle_hidden(message=self.get_object(), actor=request.user)
        return Response(MessageSerializer(message).data)

    def _set_hidden(self, request: Request, *, hidden: bool) -> Response:
        message = services.message_set_hidden(
            message=self.get_object(), hidden=hidden, actor=request.user
        )
        return Response(MessageSerializer(message).data)
