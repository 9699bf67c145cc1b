from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from apps.conversations.models import Conversation, Message
from apps.core.types import Actor


def conversations_visible_to(
    user: Actor, *, include_deleted: bool = False
) -> QuerySet[Conversation]:
    """Staff see every conversation; anyone else sees the ones they started."""
    manager = Conversation.all_objects if include_deleted else Conversation.objects
    queryset = manager.all()
    if not getattr(user, "is_staff", False):
        queryset = queryset.filter(created_by=getattr(user, "pk", None))
    return queryset


def thread_root_id(message: Message) -> int:
    return message.thread_root_id or message.pk


def conversation_messages(
    *, conversation: Conversation, thread: Message | None = None, include_hidden: bool = True
) -> QuerySet[Message]:
    """Messages oldest first, optionally one thread (its root and every reply under it)."""
    messages = Message.objects.filter(conversation=conversation).select_related(
        "agent", "created_by"
    )
    if thread is not None:
        root = thread_root_id(thread)
        messages = messages.filter(Q(pk=root) | Q(thread_root=root))
    if not include_hidden:
        messages = messages.filter(is_hidden=False)
    return messages.order_by("created_at", "id")


def conversation_history(*, conversation_id: int, limit: int) -> list[dict[str, Any]]:
    """The visible messages a contextual run sees: the newest ``limit``, oldest first."""
    newest = (
        Message.objects.filter(conversation_id=conversation_id, is_hidden=False)
        .select_related("agent")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        {
            "id": message.pk,
            "type": message.type,
            "agent": message.agent.slug if message.agent else None,
            "content": message.content,
            "created_at": message.created_at.isoformat(),
        }
        for message in reversed(list(newest))
    ]
