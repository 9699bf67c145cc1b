"""Publishing to the gamification and councilor WebSocket groups.

Every function here is sync and best effort: a broadcast is a live nicety, not
a record, so a channel-layer failure is logged and swallowed.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.runs import events

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


def _group_send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.warning("could not broadcast %s to %s", message.get("type"), group)


def broadcast_to_gamification(message: dict[str, Any]) -> None:
    """Sends ``{"topic", "payload"}`` to every gamification client subscribed to the topic."""
    _group_send(
        GAMIFICATION_GROUP,
        {
            "type": GAMIFICATION_MESSAGE_TYPE,
            "topic": message["topic"],
            "payload": message.get("payload", {}),
        },
    )


def broadcast_councilor_status(message: dict[str, Any]) -> None:
    """Sends a councilor's status to ``/ws/councilors/`` and the gamification "councilors" topic."""
    status = {key: value for key, value in message.items() if key != "type"}
    _group_send(COUNCILORS_GROUP, {"type": COUNCILOR_STATUS_MESSAGE_TYPE, **status})
    broadcast_to_gamification(
        {"topic": TOPIC_COUNCILORS, "payload": {"event": "councilor.status", **status}}
    )


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


def broadcast_tool_summary(envelope: dict[str, Any]) -> None:
    """Publishes a summary of a ``tool.called``/``tool.result`` envelope; ignores other events."""
    if envelope.get("event") not in TOOL_EVENTS:
        return
    broadcast_to_gamification({"topic": TOPIC_TOOLS, "payload": tool_summary(envelope)})
