from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from apps.agents.exceptions import AgentInUse
from apps.agents.models import Agent
from apps.core.types import Actor


def agent_save(*, agent: Agent, actor: Actor) -> Agent:
    """Validates and saves an agent built or changed by the caller (the admin's form)."""
    agent.full_clean()
    agent.save()
    return agent


def agent_create(*, actor: Actor, **fields: Any) -> Agent:
    return agent_save(agent=Agent(**fields), actor=actor)


def agent_update(*, agent: Agent, actor: Actor, **fields: Any) -> Agent:
    for name, value in fields.items():
        setattr(agent, name, value)
    return agent_save(agent=agent, actor=actor)


def agent_delete(*, agent: Agent, actor: Actor) -> None:
    try:
        agent.delete()
    except ProtectedError as exc:
        blockers = sorted({str(type(obj)._meta.verbose_name) for obj in exc.protected_objects})
        raise AgentInUse(details={"referenced_by": blockers}) from None


def _free_copy_slug(slug: str) -> str:
    base = f"{slug[:56]}_copy"
    taken = set(Agent.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    return next(f"{base}{n}" for n in range(2, len(taken) + 3) if f"{base}{n}" not in taken)


@transaction.atomic
def agent_duplicate(*, agent: Agent, actor: Actor) -> Agent:
    copy = Agent.objects.get(pk=agent.pk)
    copy.pk = None
    copy.slug = _free_copy_slug(agent.slug)
    copy.name = f"{agent.name} (copy)"[:200]
    copy.is_active = False
    copy.full_clean()
    copy.save()
    return copy


def agents_set_active(*, agents: QuerySet[Agent], active: bool, actor: Actor) -> int:
    return agents.update(is_active=active, updated_at=timezone.now())
