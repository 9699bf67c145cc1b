from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.councilors import services
from apps.councilors.models import Councilor
from apps.streams.broadcast import COUNCILORS_GROUP


def promote_body(agent_slug: str = "native", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent": agent_slug,
        "title": "Uptime watch",
        "schedule_type": "interval",
        "schedule_value": "30m",
        "timezone": "UTC",
        "task_name": "Check the services",
        "task_prompt": "Look at the service status page and report anything unusual.",
        "output_format": "summary",
        "working_directory": "/srv/councilors/uptime",
    }
    body.update(overrides)
    return body


def promote(actor: Any, agent: Any, **overrides: Any) -> Councilor:
    body = promote_body(agent.slug, **overrides)
    body.pop("agent")
    return services.councilor_promote(agent=agent, actor=actor, **body)


def assert_no_orphans() -> None:
    """Every councilor has its PeriodicTask, and every councilor PeriodicTask its councilor."""
    tick_tasks = PeriodicTask.objects.filter(task=services.TICK_TASK)
    owned = set(Councilor.objects.values_list("periodic_task_id", flat=True))
    assert set(tick_tasks.values_list("pk", flat=True)) == owned
    for councilor in Councilor.objects.select_related("periodic_task"):
        assert councilor.periodic_task.args == f"[{councilor.pk}]"


def unused_schedule_rows() -> list[object]:
    """Interval and crontab rows no periodic task references."""
    intervals = IntervalSchedule.objects.filter(periodictask__isnull=True)
    crontabs = CrontabSchedule.objects.filter(periodictask__isnull=True)
    return [*intervals, *crontabs]


class CouncilorListener:
    """A channel in the councilors group, as /ws/councilors/ clients are."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(COUNCILORS_GROUP, self.channel)

    def received(self, quiet_seconds: float = 0.5) -> list[dict[str, Any]]:
        """Everything received until nothing more comes for ``quiet_seconds``."""
        return async_to_sync(self._drain)(quiet_seconds)

    async def _drain(self, quiet_seconds: float) -> list[dict[str, Any]]:
        messages = []
        while True:
            try:
                receiving = self.layer.receive(self.channel)
                messages.append(await asyncio.wait_for(receiving, quiet_seconds))
            except TimeoutError:
                return messages

    def close(self) -> None:
        async_to_sync(self.layer.group_discard)(COUNCILORS_GROUP, self.channel)
