"""Every write to the gamification feed: record a task event, then broadcast it on commit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from apps.activity.models import TaskEvent
from apps.runs.models import RunSource
from apps.streams.broadcast import TOPIC_TASKS, broadcast_to_gamification, task_event

if TYPE_CHECKING:
    from apps.runs.models import Run

# Keys of task_event()'s payload that the record keeps in its own columns.
PAYLOAD_ENVELOPE_KEYS = frozenset({"event", "timestamp"})


def task_event_message(event: TaskEvent) -> dict[str, Any]:
    """What "tasks" subscribers of /ws/gamification/ receive: the data, flat, named by ``event``."""
    return {
        "event": event.type,
        "id": event.pk,
        **event.data,
        "timestamp": event.created_at.isoformat(),
    }


def task_event_record(
    *,
    type: str,
    data: dict[str, Any],
    run: Run | None = None,
    audience: int | None = None,
    councilor: bool = False,
) -> TaskEvent:
    """Stores the event in the current transaction and broadcasts it once that commits.

    ``audience`` (a user id) narrows both the feed and the broadcast to that user and staff.
    """
    event = TaskEvent.objects.create(
        type=type, data=data, run=run, audience_id=audience, councilor=councilor
    )
    message = {"topic": TOPIC_TASKS, "payload": task_event_message(event)}
    transaction.on_commit(lambda: broadcast_to_gamification(message, audience=audience))
    return event


def task_event_record_for_run(*, run: Run, name: str) -> TaskEvent:
    """Records ``run`` as it is now, seen only by its owner and staff (everyone if unowned)."""
    payload = task_event(run, name)
    data = {key: value for key, value in payload.items() if key not in PAYLOAD_ENVELOPE_KEYS}
    return task_event_record(
        type=name,
        data=data,
        run=run,
        audience=run.created_by_id,
        councilor=run.source == RunSource.COUNCILOR,
    )


def task_event_ingest(*, type: str, data: dict[str, Any]) -> TaskEvent:
    """Records an event another service reports (already validated); everyone sees it."""
    councilor = data.get("councilor") is True or data.get("source") == RunSource.COUNCILOR
    return task_event_record(type=type, data=data, councilor=councilor)
