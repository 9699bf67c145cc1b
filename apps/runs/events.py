"""Run event names (SPEC §5) and the channel-layer group of a run."""

from __future__ import annotations

import uuid

RUN_QUEUED = "run.queued"
RUN_STARTED = "run.started"
LLM_DELTA = "llm.delta"
LLM_COMPLETED = "llm.completed"
TOOL_CALLED = "tool.called"
TOOL_RESULT = "tool.result"
APPROVAL_REQUIRED = "approval.required"
APPROVAL_RESOLVED = "approval.resolved"
RUN_SUCCEEDED = "run.succeeded"
RUN_FAILED = "run.failed"
RUN_CANCELLED = "run.cancelled"
RUN_TIMED_OUT = "run.timed_out"
# Something the run goes on without, such as an MCP server it could not reach.
RUN_WARNING = "run.warning"

TERMINAL_EVENTS = frozenset({RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELLED, RUN_TIMED_OUT})

# The channel-layer message type consumers handle (``run_event``).
LAYER_MESSAGE_TYPE = "run.event"


def run_group(run_id: uuid.UUID | str) -> str:
    return f"run.{run_id}"
