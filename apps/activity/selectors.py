from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.activity.models import TaskEvent
from apps.core.types import Actor


def task_events_visible_to(user: Actor) -> QuerySet[TaskEvent]:
    """Staff see every event; anyone else sees those for everyone and those about them."""
    events = TaskEvent.objects.all()
    if getattr(user, "is_staff", False):
        return events
    return events.filter(Q(audience__isnull=True) | Q(audience=getattr(user, "pk", None)))


def task_events_feed(
    *, user: Actor, limit: int, include_councilors: bool = True, include_regular: bool = True
) -> list[TaskEvent]:
    """The newest ``limit`` events ``user`` may see, newest first."""
    events = task_events_visible_to(user)
    if not include_councilors:
        events = events.filter(councilor=False)
    if not include_regular:
        events = events.filter(councilor=True)
    return list(events.order_by("-created_at", "-id")[:limit])
