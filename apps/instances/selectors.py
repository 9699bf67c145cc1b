"""What an instance's runs would see, and its MCP configuration views."""

from __future__ import annotations

from typing import Any, TypedDict

from django.db.models import Q, QuerySet

from apps.core.types import Actor
from apps.instances.models import AgentInstance

HISTORY_LIMIT = 50


class McpConfigViews(TypedDict):
    template: dict[str, Any]
    instance: dict[str, Any]
    combined: dict[str, Any]


def merge_configs(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: objects merge key by key, anything else in ``override`` wins."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_configs(merged[key], value)
        else:
            merged[key] = value
    return merged


def instance_mcp_configs(instance: AgentInstance) -> McpConfigViews:
    template = dict(instance.agent.mcp_configs or {})
    own = dict(instance.mcp_configs or {})
    return McpConfigViews(template=template, instance=own, combined=merge_configs(template, own))


def instance_cwd(instance: AgentInstance) -> str | None:
    """The instance's own cwd, else its screenplay's working directory."""
    return instance.cwd or instance.screenplay.working_directory or None


def _persona(instance: AgentInstance) -> dict[str, Any] | None:
    persona = instance.agent.persona
    if persona is None:
        return None
    return {"id": persona.pk, "name": persona.name, "content": persona.content}


def _screenplay(instance: AgentInstance) -> dict[str, Any]:
    screenplay = instance.screenplay
    return {"id": screenplay.pk, "name": screenplay.name, "content": screenplay.content}


def _history(instance: AgentInstance, limit: int) -> list[dict[str, Any]]:
    if instance.conversation_id is None:
        return []
    from apps.conversations.selectors import conversation_history

    return conversation_history(conversation_id=instance.conversation_id, limit=limit)


def instance_run_context(instance: AgentInstance, *, limit: int = HISTORY_LIMIT) -> dict[str, Any]:
    """``{persona, screenplay, history, cwd}``: the context a run of this instance starts from."""
    return {
        "persona": _persona(instance),
        "screenplay": _screenplay(instance),
        "history": _history(instance, limit),
        "cwd": instance_cwd(instance),
    }


def instances_runnable_by(user: Actor) -> QuerySet[AgentInstance]:
    """The instances ``user`` may start a run of. A run of an instance reads and answers
    into the instance's conversation, so one bound to a conversation ``user`` may not
    read is left out, exactly as that conversation would be."""
    from apps.conversations.selectors import conversations_visible_to

    return AgentInstance.objects.filter(
        Q(conversation__isnull=True) | Q(conversation__in=conversations_visible_to(user))
    )


def instance_conversation_visible_to(instance: AgentInstance, user: Actor) -> bool:
    """False when the instance is bound to a conversation ``user`` may not read.

    Deleted conversations count as visible to their owner: visibility is about who,
    not about whether the row is alive.
    """
    if instance.conversation_id is None:
        return True
    from apps.conversations.selectors import conversations_visible_to

    visible = conversations_visible_to(user, include_deleted=True)
    return visible.filter(pk=instance.conversation_id).exists()
