"""Every write to conversations and their messages."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from rest_framework.exceptions import PermissionDenied

from apps.agents.models import Agent
from apps.conversations.exceptions import (
    ConversationNotDeleted,
    ForeignInstance,
    ForeignMessage,
    InvalidReorder,
    InvalidUpload,
)
from apps.conversations.models import Conversation, Message
from apps.conversations.selectors import (
    agent_history_messages,
    conversations_visible_to,
    thread_root_id,
)
from apps.core.soft_delete import restore_tree, soft_delete_many, soft_delete_tree
from apps.core.types import Actor
from apps.core.validators import validate_no_control_characters
from apps.instances.models import AgentInstance

CONTEXT_UPLOAD_MAX_BYTES = 50 * 1024
CONTEXT_UPLOAD_EXTENSIONS = (".md", ".markdown")
COPY_SUFFIX = " (copy)"


def _owner(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def conversation_save(*, conversation: Conversation, actor: Actor) -> Conversation:
    conversation.full_clean()
    conversation.save()
    return conversation


@transaction.atomic
def conversation_create(*, actor: Actor, **fields: Any) -> Conversation:
    conversation = Conversation(created_by=_owner(actor), **fields)
    if "display_order" not in fields:
        highest = Conversation.all_objects.aggregate(highest=Max("display_order"))["highest"]
        conversation.display_order = 0 if highest is None else highest + 1
    return conversation_save(conversation=conversation, actor=actor)


def conversation_update(*, conversation: Conversation, actor: Actor, **fields: Any) -> Conversation:
    """Title, context and settings (max_chain_depth, auto_delegate, ...)."""
    for name, value in fields.items():
        setattr(conversation, name, value)
    return conversation_save(conversation=conversation, actor=actor)


def _decode_markdown_upload(upload: UploadedFile) -> str:
    name = upload.name or ""
    if not name.lower().endswith(CONTEXT_UPLOAD_EXTENSIONS):
        raise InvalidUpload("Upload a .md or .markdown file.", details={"name": name})
    if upload.size is None or upload.size > CONTEXT_UPLOAD_MAX_BYTES:
        raise InvalidUpload(
            "The file is larger than 50 KB.",
            details={"size": upload.size, "max_bytes": CONTEXT_UPLOAD_MAX_BYTES},
        )
    raw = upload.read(CONTEXT_UPLOAD_MAX_BYTES + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidUpload("The file is not UTF-8 text.", details={"byte": exc.start}) from None
    return text.replace("\r\n", "\n")


def conversation_context_upload(
    *, conversation: Conversation, upload: UploadedFile, actor: Actor
) -> Conversation:
    """Replaces the context with an uploaded markdown file (UTF-8 text, at most 50 KB)."""
    text = _decode_markdown_upload(upload)
    try:
        validate_no_control_characters(text)
    except Exception as exc:
        raise InvalidUpload("The file is binary or holds control characters.") from exc
    return conversation_update(conversation=conversation, actor=actor, context=text)


def conversation_set_active_agent(
    *, conversation: Conversation, instance: AgentInstance | None, actor: Actor
) -> Conversation:
    if instance is not None and (
        instance.conversation_id != conversation.pk or instance.is_deleted
    ):
        raise ForeignInstance(details={"instance": instance.pk})
    return conversation_update(conversation=conversation, actor=actor, active_agent=instance)


@transaction.atomic
def conversations_reorder(*, order: Sequence[tuple[int, int]], actor: Actor) -> list[Conversation]:
    """Applies ``(conversation id, display order)`` pairs to conversations the actor can see."""
    wanted = dict(order)
    if len(wanted) != len(order):
        raise InvalidReorder("A conversation is named more than once.")
    visible = conversations_visible_to(actor) if actor is not None else Conversation.objects
    conversations = list(visible.select_for_update().filter(pk__in=wanted))
    missing = sorted(set(wanted) - {conversation.pk for conversation in conversations})
    if missing:
        raise InvalidReorder("Unknown or deleted conversations.", details={"ids": missing})
    for conversation in conversations:
        conversation.display_order = wanted[conversation.pk]
    Conversation.objects.bulk_update(conversations, ["display_order", "updated_at"])
    return sorted(conversations, key=lambda c: (c.display_order, c.pk))


def _clone_instances(source: Conversation, copy: Conversation) -> dict[int, int]:
    id_map: dict[int, int] = {}
    for instance in AgentInstance.objects.filter(conversation=source).order_by("pk"):
        old_pk = instance.pk
        clone = AgentInstance(
            agent_id=instance.agent_id,
            screenplay_id=instance.screenplay_id,
            conversation=copy,
            position=dict(instance.position),
            display_order=instance.display_order,
            cwd=instance.cwd,
            config=dict(instance.config),
            mcp_configs=dict(instance.mcp_configs),
        )
        clone.save()
        id_map[old_pk] = clone.pk
    return id_map


def _clone_messages(source: Conversation, copy: Conversation) -> None:
    id_map: dict[int, int] = {}
    for message in Message.objects.filter(conversation=source).order_by("created_at", "pk"):
        old_pk, parent, root = message.pk, message.parent_id, message.thread_root_id
        message.pk = None
        message.conversation = copy
        message.parent_id = id_map.get(parent) if parent else None
        message.thread_root_id = id_map.get(root) if root else None
        message.save()
        id_map[old_pk] = message.pk


@transaction.atomic
def conversation_clone(
    *, conversation: Conversation, actor: Actor
) -> tuple[Conversation, dict[int, int]]:
    """Copies the conversation, its messages and its instances.

    Returns the copy and a map of old instance ids to new ones. Deleted rows are
    not copied; statistics start from zero.
    """
    copy = conversation_create(
        actor=actor,
        title=conversation.title[: 200 - len(COPY_SUFFIX)] + COPY_SUFFIX,
        context=conversation.context,
        screenplay=conversation.screenplay,
        max_chain_depth=conversation.max_chain_depth,
        auto_delegate=conversation.auto_delegate,
    )
    instance_id_map = _clone_instances(conversation, copy)
    _clone_messages(conversation, copy)
    if conversation.active_agent_id in instance_id_map:
        copy.active_agent_id = instance_id_map[conversation.active_agent_id]
        copy.save(update_fields=["active_agent"])
    return copy, instance_id_map


def conversation_soft_delete(*, conversation: Conversation, actor: Actor) -> uuid.UUID:
    """Marks the conversation, its messages and its instances deleted as one batch."""
    return soft_delete_tree(conversation)


def conversation_restore(*, conversation: Conversation, actor: Actor) -> Conversation:
    """Reverses the delete that took this conversation down; ConversationNotDeleted if alive."""
    if not conversation.is_deleted:
        raise ConversationNotDeleted(details={"id": conversation.pk})
    restore_tree(conversation)
    return conversation


def conversation_hard_delete(*, conversation: Conversation, actor: Actor) -> None:
    """Removes the row, its messages and its instances for good (admin, superusers only)."""
    conversation.delete()


def message_check_parent(*, conversation: Conversation, parent: Message | None) -> None:
    """Raises ForeignMessage unless ``parent`` is None or in ``conversation``."""
    if parent is not None and parent.conversation_id != conversation.pk:
        raise ForeignMessage(details={"parent": parent.pk})


def message_create(
    *,
    conversation: Conversation,
    actor: Actor,
    parent: Message | None = None,
    **fields: Any,
) -> Message:
    message_check_parent(conversation=conversation, parent=parent)
    message = Message(
        conversation=conversation,
        parent=parent,
        thread_root_id=thread_root_id(parent) if parent is not None else None,
        created_by=_owner(actor),
        **fields,
    )
    message.full_clean()
    message.save()
    return message


def message_set_hidden(*, message: Message, hidden: bool, actor: Actor) -> Message:
    message.is_hidden = hidden
    message.save(update_fields=["is_hidden"])
    return message


def message_toggle_hidden(*, message: Message, actor: Actor) -> Message:
    return message_set_hidden(message=message, hidden=not message.is_hidden, actor=actor)


def message_soft_delete(*, message: Message, actor: Actor) -> uuid.UUID:
    return soft_delete_tree(message)


def message_restore(*, message: Message, actor: Actor) -> Message:
    restore_tree(message)
    return message


def message_hard_delete(*, message: Message, actor: Actor) -> None:
    message.delete()


def conversation_messages_clear(*, conversation: Conversation, actor: Actor) -> int:
    """Soft-deletes every alive message of a conversation the actor owns (staff: any).

    One batch, as ``conversation_messages_clear_for_agent``; returns how many.
    """
    if not conversations_visible_to(actor).filter(pk=conversation.pk).exists():
        raise PermissionDenied("Only the conversation's owner or staff may clear it.")
    pks = list(Message.objects.filter(conversation=conversation).values_list("pk", flat=True))
    return soft_delete_many(Message, pks, reason=f"conversation {conversation.pk} cleared")


@transaction.atomic
def conversation_messages_clear_for_agent(*, agent: Agent, actor: Actor) -> int:
    """Soft-deletes ``agent``'s history in the conversations ``actor`` owns (staff: all).

    The history is what a contextual run of the agent reads back. A message is part
    of it when it is alive and either

    - the agent wrote it (``message.agent``), or it belongs to a run of the agent
      (``message.run.agent``: the prompt the run answered and its answer), wherever
      it is; or
    - it is in a conversation dedicated to the agent: one whose participants and
      active agent are instances of this agent only (see
      ``selectors.conversations_dedicated_to``). There everything goes, the user's
      messages included.

    In a conversation shared with other agents, their messages and the user's stay:
    they are the other agents' history too. The messages are deleted as one batch,
    so restoring any of them (``message_restore``) brings back the whole clear.
    Returns how many messages were deleted.
    """
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Sign in to clear an agent's history.")
    messages = agent_history_messages(agent=agent, conversations=conversations_visible_to(actor))
    pks = list(messages.values_list("pk", flat=True))
    return soft_delete_many(Message, pks, reason=f"history of agent {agent.slug} cleared")
