from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from apps.agents.models import Agent
from apps.conversations.models import Conversation, Message
from apps.core.types import Actor
from apps.instances.models import AgentInstance

CONVERSATION_ORDERING = ("display_order", "-updated_at", "id")


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


def conversations_with_details(queryset: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Adds what a listing shows (owner, alive participants, message_count) in constant queries."""
    participants = AgentInstance.objects.select_related("agent").order_by("display_order", "id")
    return (
        queryset.select_related("created_by")
        .prefetch_related(Prefetch("instances", queryset=participants, to_attr="participants"))
        .annotate(**message_count_annotation())
        # An aggregate drops Meta.ordering; pagination needs a stable order.
        .order_by(*CONVERSATION_ORDERING)
    )


def message_count_annotation() -> dict[str, Count]:
    """``message_count``: alive messages, hidden ones included."""
    return {"message_count": Count("messages", filter=Q(messages__is_deleted=False))}


def conversation_messages(
    *,
    conversation: Conversation,
    thread: Message | None = None,
    include_hidden: bool = True,
    include_deleted: bool = False,
) -> QuerySet[Message]:
    """Messages oldest first, optionally one thread (its root and every reply under it)."""
    manager = Message.all_objects if include_deleted else Message.objects
    messages = manager.filter(conversation=conversation).select_related("agent", "created_by")
    if thread is not None:
        root = thread_root_id(thread)
        messages = messages.filter(Q(pk=root) | Q(thread_root=root))
    if not include_hidden:
        messages = messages.filter(is_hidden=False)
    return messages.order_by("created_at", "id")


def messages_threaded(queryset: QuerySet[Message]) -> QuerySet[Message]:
    """Each thread together (by its root), oldest first within it."""
    return queryset.annotate(thread_key=Coalesce("thread_root_id", "id")).order_by(
        "thread_key", "created_at", "id"
    )


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


def conversations_dedicated_to(
    *, agent: Agent, conversations: QuerySet[Conversation]
) -> QuerySet[Conversation]:
    """The conversations in which ``agent`` is the only agent taking part.

    That is: an alive instance of it takes part or is the active agent, and no alive
    instance of another agent takes part or is the active agent.
    """
    own = AgentInstance.objects.filter(conversation=OuterRef("pk"), agent=agent)
    others = AgentInstance.objects.filter(conversation=OuterRef("pk")).exclude(agent=agent)
    other_active = AgentInstance.all_objects.filter(pk=OuterRef("active_agent_id")).exclude(
        agent=agent
    )
    return (
        conversations.filter(Q(Exists(own)) | Q(active_agent__agent=agent))
        .exclude(Exists(others))
        .exclude(Exists(other_active))
    )


def agent_history_messages(
    *, agent: Agent, conversations: QuerySet[Conversation]
) -> QuerySet[Message]:
    """The alive messages of ``conversations`` that make up ``agent``'s history.

    See ``conversation_messages_clear_for_agent`` for what that means.
    """
    dedicated = conversations_dedicated_to(agent=agent, conversations=conversations)
    return Message.objects.filter(conversation__in=conversations).filter(
        Q(agent=agent) | Q(run__agent=agent) | Q(conversation__in=dedicated)
    )
