"""Publishing to the gamification and councilor WebSocket groups.

Every function here is sync and best effort: a broadcast is a live nicety, not
a record, so a channel-layer failure is logged and swallowed.

A broadcast about one run carries its owner as the ``audience``: the gamification
consumer passes it on only to that user and to staff, as the run's own stream would.
Runs nobody owns (a councilor's, say) are for every signed-in user.

Task events are the exception to "not a record": apps.activity stores each one (the
gamification feed) before broadcasting it, see :func:`broadcast_task_event`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from apps.runs import events
from apps.streams.publish import publish

if TYPE_CHECKING:
    from apps.runs.models import Run

logger = logging.getLogger(__name__)

GAMIFICATION_GROUP = "gamification"
COUNCILORS_GROUP = "councilors"
GAMIFICATION_MESSAGE_TYPE = "gamification.event"
COUNCILOR_STATUS_MESSAGE_TYPE = "councilor.status"

TOPIC_TASKS = "tasks"
TOPIC_COUNCILORS = "councilors"
TOPIC_TOOLS = "tools"
TOPICS = frozenset({TOPIC_TASKS, TOPIC_COUNCILORS, TOPIC_TOOLS})

TOOL_EVENTS = frozenset({events.TOOL_CALLED, events.TOOL_RESULT})

# Task events (SPEC §2). A run emits task_submitted when it is created, task_picked when
# a worker claims it, task_started, then task_completed or task_error; task_inputted is
# for frontends that report their own tasks.
TASK_INPUTTED = "task_inputted"
TASK_SUBMITTED = "task_submitted"
TASK_PICKED = "task_picked"
TASK_STARTED = "task_started"
TASK_COMPLETED = "task_completed"
TASK_ERROR = "task_error"
TASK_SUMMARY_CHARS = 200


def _group_send(group: str, message: dict[str, Any]) -> None:
    try:
        publish(group, message)
    except Exception:
        logger.warning("could not broadcast %s to %s", message.get("type"), group)


def broadcast_to_gamification(message: dict[str, Any], *, audience: int | None = None) -> None:
    """Sends ``{"topic", "payload"}`` to the gamification clients subscribed to the topic.

    ``audience`` (a user id) narrows it to that user and staff.
    """
    _group_send(
        GAMIFICATION_GROUP,
        {
            "type": GAMIFICATION_MESSAGE_TYPE,
            "topic": message["topic"],
            "payload": message.get("payload", {}),
            "audience": audience,
        },
    )


def broadcast_councilor_status(message: dict[str, Any]) -> None:
    """Sends a councilor's status to ``/ws/councilors/`` and the gamification "councilors" topic."""
    status = {key: value for key, value in message.items() if key != "type"}
    _group_send(COUNCILORS_GROUP, {"type": COUNCILOR_STATUS_MESSAGE_TYPE, **status})
    broadcast_to_gamification(
        {"topic": TOPIC_COUNCILORS, "payload": {"event": "councilor.status", **status}}
    )


# A councilor run's life, on /ws/councilors/ and the gamification "councilors" topic.
COUNCILOR_STARTED = "councilor.started"
COUNCILOR_COMPLETED = "councilor.completed"
COUNCILOR_ERROR = "councilor.error"
COUNCILOR_EVENTS = frozenset({COUNCILOR_STARTED, COUNCILOR_COMPLETED, COUNCILOR_ERROR})


def broadcast_councilor_event(name: str, payload: dict[str, Any]) -> None:
    """Sends ``councilor.started|completed|error`` to both councilor audiences.

    ``/ws/councilors/`` clients get ``{"type": name, **payload}``; gamification clients
    subscribed to "councilors" get ``{"event": name, **payload}``.
    """
    if name not in COUNCILOR_EVENTS:
        raise ValueError(f"not a councilor event: {name!r}")
    _group_send(COUNCILORS_GROUP, {**payload, "type": name})
    broadcast_to_gamification({"topic": TOPIC_COUNCILORS, "payload": {**payload, "event": name}})


def tool_summary(envelope: dict[str, Any]) -> dict[str, Any]:
    """What the gamification feed shows of a tool event: never its arguments or output."""
    data = envelope.get("data") or {}
    summary: dict[str, Any] = {
        "event": envelope["event"],
        "run_id": envelope["run_id"],
        "seq": envelope["id"],
        "timestamp": envelope["timestamp"],
        "tool": data.get("tool"),
        "call_id": data.get("id"),
    }
    if envelope["event"] == events.TOOL_RESULT:
        summary["success"] = data.get("success")
        summary["duration_ms"] = data.get("duration_ms")
    return summary


def broadcast_tool_summary(envelope: dict[str, Any], *, audience: int | None = None) -> None:
    """Publishes a summary of a ``tool.called``/``tool.result`` envelope; ignores other events."""
    if envelope.get("event") not in TOOL_EVENTS:
        return
    message = {"topic": TOPIC_TOOLS, "payload": tool_summary(envelope)}
    broadcast_to_gamification(message, audience=audience)


def task_event(run: Run, name: str) -> dict[str, Any]:
    """What the feed shows of a run at one point of its life (SPEC §2 Task event)."""
    agent = run.agent
    return {
        "event": name,
        "run_id": str(run.pk),
        "agent": {"slug": agent.slug, "name": agent.name, "emoji": agent.emoji},
        "status": run.status,
        "severity": run.severity,
        "summary": _task_summary(run, name),
        "duration_ms": run.duration_ms,
        "screenplay": run.screenplay_id,
        "conversation": run.conversation_id,
        "instance": run.instance_id,
        "timestamp": timezone.now().isoformat(),
    }


def _task_summary(run: Run, name: str) -> str:
    outcome = {TASK_COMPLETED: run.result, TASK_ERROR: run.error}.get(name)
    return one_line_summary(outcome or run.input)


def one_line_summary(text: str) -> str:
    """``text`` on one line, cut to at most ``TASK_SUMMARY_CHARS`` with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= TASK_SUMMARY_CHARS:
        return text
    return text[: TASK_SUMMARY_CHARS - 1].rstrip() + "…"


def broadcast_task_event(run: Run, name: str) -> None:
    """Records a task event about ``run`` in the current transaction; broadcasts it on commit.

    The payload is taken now, from the run as it is at this point of its life. Unlike
    the other functions here, this one writes a row: the feed (``GET /api/tasks/events/``)
    replays what the socket showed, so a failed insert fails the caller's transaction.
    """
    # apps.activity builds on this module (its constants, task_event): import it late.
    from apps.activity.services import task_event_record_for_run

    task_event_record_for_run(run=run, name=name)
