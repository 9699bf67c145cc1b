"""Every write to an agent instance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from apps.core.soft_delete import restore_tree, soft_delete_tree
from apps.core.types import Actor
from apps.instances.exceptions import InstanceNotDeleted, InvalidReorder
from apps.instances.models import AgentInstance, InstanceStatus

SUCCESS_STATUSES = frozenset({"succeeded"})


def instance_save(*, instance: AgentInstance, actor: Actor) -> AgentInstance:
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def instance_create(
    *, actor: Actor, display_order: int | None = None, **fields: Any
) -> AgentInstance:
    instance = AgentInstance(**fields)
    if display_order is None:
        siblings = AgentInstance.all_objects.filter(screenplay=instance.screenplay_id)
        highest = siblings.aggregate(highest=Max("display_order"))["highest"]
        display_order = 0 if highest is None else highest + 1
    instance.display_order = display_order
    return instance_save(instance=instance, actor=actor)


def instance_update(*, instance: AgentInstance, actor: Actor, **fields: Any) -> AgentInstance:
    for name, value in fields.items():
        setattr(instance, name, value)
    return instance_save(instance=instance, actor=actor)


def instance_set_cwd(*, instance: AgentInstance, cwd: str, actor: Actor) -> AgentInstance:
    return instance_update(instance=instance, actor=actor, cwd=cwd)


def instance_set_mcp_configs(
    *, instance: AgentInstance, mcp_configs: dict[str, Any], actor: Actor
) -> AgentInstance:
    return instance_update(instance=instance, actor=actor, mcp_configs=mcp_configs)


@transaction.atomic
def instances_reorder(*, order: Sequence[tuple[int, int]], actor: Actor) -> list[AgentInstance]:
    """Applies ``(instance id, display order)`` pairs; all instances must share a screenplay."""
    wanted = dict(order)
    if len(wanted) != len(order):
        raise InvalidReorder("An instance is named more than once.")
    instances = list(AgentInstance.objects.select_for_update().filter(pk__in=wanted))
    missing = sorted(set(wanted) - {instance.pk for instance in instances})
    if missing:
        raise InvalidReorder("Unknown or deleted instances.", details={"ids": missing})
    screenplays = {instance.screenplay_id for instance in instances}
    if len(screenplays) > 1:
        raise InvalidReorder(
            "All instances of a reorder must belong to one screenplay.",
            details={"screenplays": sorted(screenplays)},
        )
    for instance in instances:
        instance.display_order = wanted[instance.pk]
    AgentInstance.objects.bulk_update(instances, ["display_order", "updated_at"])
    return sorted(instances, key=lambda instance: (instance.display_order, instance.pk))


def instance_record_run(
    *,
    instance_id: int,
    exit_status: str,
    duration_ms: int,
    finished_at: datetime | None = None,
) -> None:
    """Counts one finished run in the instance's statistics.

    One UPDATE with F() expressions: runs finishing at the same moment each add
    their own counts, and none is lost to a read-modify-write race.
    """
    succeeded = exit_status in SUCCESS_STATUSES
    AgentInstance.all_objects.filter(pk=instance_id).update(
        task_count=F("task_count") + 1,
        success_count=F("success_count") + int(succeeded),
        error_count=F("error_count") + int(not succeeded),
        total_duration_ms=F("total_duration_ms") + max(0, duration_ms),
        last_duration_ms=max(0, duration_ms),
        last_exit_status=exit_status,
        last_completed_at=finished_at or timezone.now(),
        status=InstanceStatus.COMPLETED if succeeded else InstanceStatus.ERROR,
        updated_at=timezone.now(),
    )


def instance_soft_delete(*, instance: AgentInstance, actor: Actor) -> uuid.UUID:
    return soft_delete_tree(instance)


def instance_restore(*, instance: AgentInstance, actor: Actor) -> AgentInstance:
    """Refuses (ParentDeleted) while its screenplay or conversation is deleted."""
    if not instance.is_deleted:
        raise InstanceNotDeleted()
    restore_tree(instance)
    return instance


def instance_hard_delete(*, instance: AgentInstance, actor: Actor) -> None:
    """Removes the row for good: the admin's superuser-only delete."""
    instance.delete()
