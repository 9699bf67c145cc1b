from __future__ import annotations

import uuid

from django.db.models import QuerySet

from apps.core.types import Actor
from apps.runs.models import Run, RunEvent


def runs_visible_to(user: Actor) -> QuerySet[Run]:
    """Staff see every run; anyone else sees the runs they started."""
    runs = Run.objects.select_related("agent", "created_by")
    if getattr(user, "is_staff", False):
        return runs
    return runs.filter(created_by=getattr(user, "pk", None))


def run_events_after(run: Run | uuid.UUID, seq: int) -> QuerySet[RunEvent]:
    """The run's logged events with a seq above ``seq``, in order (``run`` or its id)."""
    return RunEvent.objects.filter(run=run, seq__gt=seq).order_by("seq")
