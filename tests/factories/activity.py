"""Task events as the feed stores them."""

from __future__ import annotations

import factory
from django.utils import timezone

from apps.activity.models import TaskEvent, TaskEventType


class TaskEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskEvent

    type = TaskEventType.TASK_COMPLETED
    data = factory.Sequence(lambda n: {"summary": f"task {n}", "agent": {"name": "Ada"}})
    created_at = factory.LazyFunction(timezone.now)
