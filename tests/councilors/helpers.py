from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from channels.layers import get_channel_layer
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.councilors import services
from apps.councilors.models import Councilor
from apps.streams.broadcast import COUNCILORS_GROUP

T = TypeVar("T")


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
    """A channel in the councilors group, as /ws/councilors/ clients are.

    It lives on an event loop of its own, on a thread: the pub/sub Redis layer keeps its
    subscriptions per loop, so a fresh loop per call (``async_to_sync``) would hear nothing.
    A receive still waiting when :meth:`received` returns is kept for the next call, because
    cancelling one makes the pub/sub layer drop the channel.
    """

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._pending: asyncio.Future[dict[str, Any]] | None = None
        self.channel = self._on_loop(self._join())

    def _on_loop(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _join(self) -> str:
        channel = await self.layer.new_channel()
        await self.layer.group_add(COUNCILORS_GROUP, channel)
        return channel

    def received(self, quiet_seconds: float = 0.5) -> list[dict[str, Any]]:
        """Everything received until nothing more comes for ``quiet_seconds``."""
        return self._on_loop(self._drain(quiet_seconds))

    async def _drain(self, quiet_seconds: float) -> list[dict[str, Any]]:
        messages = []
        while True:
            if self._pending is None:
                self._pending = asyncio.ensure_future(self.layer.receive(self.channel))
            done, _ = await asyncio.wait({self._pending}, timeout=quiet_seconds)
            if not done:
                return messages
            messages.append(self._pending.result())
            self._pending = None

    def close(self) -> None:
        async def leave() -> None:
            if self._pending is not None:
                self._pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pending
            await self.layer.group_discard(COUNCILORS_GROUP, self.channel)

        try:
            self._on_loop(leave())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop.close()
