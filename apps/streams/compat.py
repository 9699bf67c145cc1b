"""The seed gateway's dialect (SPEC §4): its payloads in, its job events out.

Runs are started, executed and logged exactly as for ``/api/runs/``; this module
only translates. A "job" is a run; its id is ``job_<run uuid>``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TypedDict

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from apps.agents.models import Agent
from apps.core.serializers import SlugLookupField
from apps.runs import events
from apps.runs.api.serializers import RunCreateSerializer
from apps.runs.models import Run

JOB_PREFIX = "job_"

JOB_STARTED = "job_started"
STATUS_UPDATE = "status_update"
RESULT = "result"
ERROR = "error"
END_OF_STREAM = "end_of_stream"


class SeedEvent(TypedDict):
    event: str
    data: dict[str, Any]
    timestamp: str
    job_id: str


# --- Payloads ------------------------------------------------------------------


class CompatRunSerializer(RunCreateSerializer):
    """The three payload formats, plus the seed's ``agent_id`` (a slug) and ``ai_provider``.

    ``ai_provider`` is accepted and ignored: a provider names no model, and the agent
    (or an explicit ``model``) already decides which one runs.
    """

    agent_id = SlugLookupField(slug_field="slug", queryset=Agent.objects.all(), required=False)
    ai_provider = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["resolved_agent"] = attrs.get("agent_id") or _default_agent()
        return super().validate(attrs)


def _default_agent() -> Agent:
    slug = settings.CONDUCTOR_COMPAT_DEFAULT_AGENT
    agent = Agent.objects.filter(slug=slug).first()
    if agent is None:
        raise serializers.ValidationError(
            {"agent_id": f"No agent_id given, and the default agent {slug!r} does not exist."}
        )
    return agent


class ExecuteResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    result = serializers.CharField(allow_blank=True)
    error = serializers.CharField(required=False)
    run_id = serializers.UUIDField()
    duration_ms = serializers.IntegerField(allow_null=True)


class StreamExecuteResponseSerializer(serializers.Serializer):
    job_id = serializers.CharField()
    status = serializers.CharField()
    stream_url = serializers.CharField()


def execute_response(run: Run) -> dict[str, Any]:
    """A failed run still answers 200: the seed's clients read ``status`` and ``error``."""
    body: dict[str, Any] = {
        "status": run.status,
        "result": run.result,
        "run_id": str(run.pk),
        "duration_ms": run.duration_ms,
    }
    if run.error:
        body["error"] = run.error
    return body


def stream_execute_response(run: Run) -> dict[str, Any]:
    job = job_id(run.pk)
    return {"job_id": job, "status": "started", "stream_url": f"/api/v1/stream/{job}"}


# --- Job ids ---------------------------------------------------------------------


def job_id(run_id: uuid.UUID | str) -> str:
    return f"{JOB_PREFIX}{run_id}"


def run_id_from_job(job: str) -> uuid.UUID | None:
    """None for anything that is not ``job_<uuid>``."""
    if not job.startswith(JOB_PREFIX):
        return None
    try:
        return uuid.UUID(job.removeprefix(JOB_PREFIX))
    except ValueError:
        return None


# --- Events ----------------------------------------------------------------------


def _tool_result_message(data: dict[str, Any]) -> str:
    outcome = "succeeded" if data.get("success") else "failed"
    return f"Tool {data.get('tool')} {outcome}"


def _summary(event: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The short ``status_update`` data for a step event; None for events the seed never sent."""
    if event == events.LLM_COMPLETED:
        return {"stage": "llm", "message": "Model replied", "model": data.get("model")}
    if event == events.TOOL_CALLED:
        message = f"Calling tool {data.get('tool')}"
        return {"stage": "tool", "message": message, "tool": data.get("tool")}
    if event == events.TOOL_RESULT:
        message = _tool_result_message(data)
        return {"stage": "tool", "message": message, "tool": data.get("tool")}
    if event == events.APPROVAL_REQUIRED:
        message = f"Waiting for approval of {data.get('tool')}"
        return {"stage": "approval", "message": message, "tool": data.get("tool")}
    if event == events.APPROVAL_RESOLVED:
        message = f"Approval {data.get('status')}"
        return {"stage": "approval", "message": message, "tool": data.get("tool")}
    return None


def _seed_name_and_data(event: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if event == events.RUN_STARTED:
        return JOB_STARTED, {"message": "Job started", "model": data.get("model")}
    if event == events.RUN_SUCCEEDED:
        return RESULT, {"result": data.get("result", ""), "message": "Job completed"}
    if event in events.TERMINAL_EVENTS:
        return ERROR, {
            "error": data.get("error") or data.get("status"),
            "status": data.get("status"),
        }
    summary = _summary(event, data)
    return (STATUS_UPDATE, summary) if summary is not None else None


def seed_event(envelope: dict[str, Any]) -> SeedEvent | None:
    """The seed event for a run-event envelope; None when the seed has no counterpart.

    ``run.queued`` and ``llm.delta`` have none: the seed streamed no tokens.
    """
    mapped = _seed_name_and_data(envelope["event"], envelope.get("data") or {})
    if mapped is None:
        return None
    name, data = mapped
    return SeedEvent(
        event=name, data=data, timestamp=envelope["timestamp"], job_id=job_id(envelope["run_id"])
    )


def end_of_stream(run_id: uuid.UUID | str) -> SeedEvent:
    return SeedEvent(
        event=END_OF_STREAM,
        data={"message": "Stream ended"},
        timestamp=timezone.now().isoformat(),
        job_id=job_id(run_id),
    )


def seed_line(event: SeedEvent) -> str:
    """One SSE message with a ``data:`` line only: the seed sent no ``event:`` or ``id:``."""
    return f"data: {json.dumps(event)}\n\n"
