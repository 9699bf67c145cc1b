"""Executes a claimed run: the runtime loop, with every step persisted and emitted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from apps.conversations.selectors import conversation_history
from apps.mcp_client.configs import run_server_uses
from apps.mcp_client.runtime import McpToolset
from apps.runs import events, services
from apps.runs.approvals import approval_request, call_from_json, call_to_json
from apps.runs.models import Approval, ApprovalStatus, ContextMode, Run, RunStatus, RunStepKind
from apps.runtime.llm import LLMReply, ToolCall, supports_native_tools
from apps.runtime.loop import Decision, Loop, LoopConfig, LoopOutcome
from apps.runtime.prompt import build_messages, build_system_prompt
from apps.runtime.tools import ToolContext, ToolDefinition, ToolResult, registry
from apps.tools.audit import tool_execution
from apps.tools.models import ToolExecution

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 50


class RunObserver:
    """Turns what the loop reports into run steps and events.

    Reports wait for the loop's next flush (before it calls the model or a tool, and
    when it stops), then go in one transaction: nothing waits in between, so each
    still lands as it happens, at a fraction of the writes.
    """

    def __init__(self, run: Run) -> None:
        self.run = run
        self._cancel_checked_at = 0.0
        self._cancelled = False
        self._steps: list[services.StepRecord] = []
        self._audits: list[ToolExecution] = []  # written with the steps

    def flush(self) -> None:
        if not self._steps:
            return
        steps, audits = self._steps, self._audits
        self._steps, self._audits = [], []
        services.run_record_steps(run=self.run, steps=steps, rows=audits)

    def llm_delta(self, text: str) -> None:
        self.flush()
        services.run_event_emit(self.run, events.LLM_DELTA, {"text": text})

    def llm_completed(self, reply: LLMReply) -> None:
        payload = {
            "model": reply.model,
            "content": reply.content,
            "tool_calls": [{"id": c.id, "name": c.name} for c in reply.tool_calls],
        }
        usage = {
            "model": reply.model,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "cost_usd": str(reply.cost_usd),
            "latency_ms": reply.latency_ms,
        }
        step = services.StepRecord(
            kind=RunStepKind.LLM_CALL,
            payload=payload,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost_usd=reply.cost_usd,
            latency_ms=reply.latency_ms,
            event=events.LLM_COMPLETED,
            data=usage,
        )
        self._steps.append(step)

    def tool_called(self, call: ToolCall) -> None:
        payload = {"id": call.id, "tool": call.name, "arguments": call.arguments}
        self._steps.append(
            services.StepRecord(
                kind=RunStepKind.TOOL_CALL, payload=payload, event=events.TOOL_CALLED, data=payload
            )
        )

    def tool_result(self, call: ToolCall, result: ToolResult) -> None:
        payload = _jsonable(
            {
                "id": call.id,
                "tool": call.name,
                "success": result.success,
                "result": result.result,
                "error": result.error,
                "duration_ms": result.duration_ms,
            }
        )
        step = services.StepRecord(
            kind=RunStepKind.TOOL_RESULT,
            payload=payload,
            latency_ms=result.duration_ms,
            event=events.TOOL_RESULT,
            data=payload,
        )
        self._steps.append(step)
        audit = tool_execution(
            tool=call.name,
            arguments=call.arguments,
            result=payload["result"],
            success=result.success,
            error=result.error,
            duration_ms=result.duration_ms,
            run_id=self.run.pk,
            user_id=self.run.created_by_id,
        )
        self._audits.append(audit)

    def tool_pre_approved(self, call: ToolCall) -> None:
        from apps.runs.approvals import approval_record_pre_approved

        self.flush()
        approval_record_pre_approved(run=self.run, call=call)

    def final_answer(self, text: str) -> None:
        self._steps.append(
            services.StepRecord(kind=RunStepKind.FINAL_ANSWER, payload={"text": text})
        )

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if (
            not self._cancelled
            and now - self._cancel_checked_at >= settings.CONDUCTOR_CANCEL_POLL_SECONDS
        ):
            self._cancel_checked_at = now
            try:
                self._cancelled = services.run_cancel_requested(str(self.run.pk))
            except DatabaseError:  # transient: the next poll asks again
                logger.warning("could not check run %s for a cancel", self.run.pk, exc_info=True)
        return self._cancelled


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def _system_prompt(run: Run, json_protocol: bool, toolset: McpToolset) -> str:
    persona = run.agent.persona
    return build_system_prompt(
        persona=persona.content if persona else None,
        screenplay=run.screenplay.content if run.screenplay else None,
        conversation_context=run.conversation.context if run.conversation else None,
        tools=_tools(run, toolset),
        json_protocol=json_protocol,
        cwd=run.cwd,
    )


def _tools(run: Run, toolset: McpToolset) -> list[ToolDefinition]:
    """The agent's tools from the registry, then those of its MCP servers."""
    return registry.definitions(run.agent.tools) + toolset.definitions()


def _history(run: Run) -> list[dict[str, Any]]:
    if run.context_mode != ContextMode.CONTEXTUAL or run.conversation_id is None:
        return []
    return conversation_history(conversation_id=run.conversation_id, limit=HISTORY_LIMIT)


def _loop(run: Run, native: bool, toolset: McpToolset, *, seconds_left: float) -> Loop:
    config = LoopConfig(
        model=run.model,
        fallbacks=list(run.agent.fallback_models),
        max_steps=run.max_steps,
        deadline=time.monotonic() + seconds_left,
        pre_approved=frozenset(run.agent.pre_approved_tools),
        native_tools=native,
        max_cost_usd=run.max_cost_usd,
        max_tokens=run.max_tokens,
        num_retries=settings.CONDUCTOR_LLM_NUM_RETRIES,
        llm_timeout=settings.CONDUCTOR_LLM_TIMEOUT_SECONDS,
        poll_seconds=settings.CONDUCTOR_CANCEL_POLL_SECONDS,
    )
    context = ToolContext(run_id=str(run.pk), user_id=run.created_by_id, cwd=run.cwd)
    return Loop(
        config=config,
        tools=_tools(run, toolset),
        registry=toolset.source(registry),
        context=context,
        observer=RunObserver(run),
    )


def _conclude(run: Run, outcome: LoopOutcome, *, native: bool, elapsed: float) -> Run:
    if outcome.status == "requires_approval":
        checkpoint = {
            "messages": outcome.messages,
            "pending": [call_to_json(call) for call in outcome.pending],
            "steps_used": outcome.steps_used,
            "elapsed_seconds": elapsed,
            "native_tools": native,
        }
        approval_request(run=run, call=outcome.pending[0], checkpoint=_jsonable(checkpoint))
        run.refresh_from_db()
        return run
    return services.run_finish(
        run=run, status=RunStatus(outcome.status), result=outcome.result, error=outcome.error
    )


def _crashed(run: Run, exc: Exception) -> LoopOutcome:
    logger.exception("run %s crashed", run.pk)
    return LoopOutcome("failed", error=f"internal error: {type(exc).__name__}: {exc}")


def on_the_runs_loop(run: Run, proceed: Callable[[McpToolset], Run]) -> Run:
    """Calls ``proceed`` in this thread, with an event loop kept on another for the run.

    The loop holds the sessions of the run's MCP servers, opened before ``proceed`` and
    closed after it, however it ends. The run's async work (tools, in-memory publishes)
    runs on that loop too: ``async_to_sync`` hands each coroutine to it rather than
    starting an event loop per call, and a tool's ``sync_to_async`` calls come back to
    this thread and its database connection.
    """
    uses = run_server_uses(run)

    async def around() -> Run:
        async with McpToolset.open(uses) as toolset:
            return await sync_to_async(proceed, thread_sensitive=True)(toolset)

    return async_to_sync(around)()


def _report(run: Run, toolset: McpToolset) -> LoopOutcome | None:
    """The toolset's warnings as events; the run's failure when a required server is missing."""
    for warning in toolset.warnings:
        services.run_event_emit(run, events.RUN_WARNING, warning)
    return LoopOutcome("failed", error=toolset.failure) if toolset.failure else None


def execute(run: Run) -> Run:
    """Runs the loop for a claimed run; finishes it, or leaves it waiting for approval."""
    return on_the_runs_loop(run, lambda toolset: _execute(run, toolset))


def _execute(run: Run, toolset: McpToolset) -> Run:
    started = time.monotonic()
    native = False
    try:
        outcome = _report(run, toolset)
        if outcome is None:
            native = supports_native_tools(run.model)
            messages = build_messages(
                _system_prompt(run, not native, toolset), _history(run), run.input
            )
            loop = _loop(run, native, toolset, seconds_left=run.timeout_seconds)
            outcome = loop.run(messages)
    except Exception as exc:
        outcome = _crashed(run, exc)
    return _conclude(run, outcome, native=native, elapsed=time.monotonic() - started)


def resume(run: Run, approval: Approval) -> Run:
    """Continues a run from its checkpoint once its approval was decided (or expired)."""
    return on_the_runs_loop(run, lambda toolset: _resume(run, approval, toolset))


def _resume(run: Run, approval: Approval, toolset: McpToolset) -> Run:
    checkpoint = run.checkpoint
    native = bool(checkpoint.get("native_tools"))
    elapsed_before = float(checkpoint.get("elapsed_seconds", 0))
    started = time.monotonic()
    decision = Decision(
        approved=approval.status == ApprovalStatus.APPROVED,
        reason=approval.reason or approval.status,
    )
    try:
        outcome = _report(run, toolset)
        if outcome is None:
            loop = _loop(run, native, toolset, seconds_left=run.timeout_seconds - elapsed_before)
            outcome = loop.resume(
                checkpoint["messages"],
                pending=[call_from_json(call) for call in checkpoint["pending"]],
                decision=decision,
                steps_used=int(checkpoint.get("steps_used", 0)),
            )
    except Exception as exc:
        outcome = _crashed(run, exc)
    elapsed = elapsed_before + time.monotonic() - started
    return _conclude(run, outcome, native=native, elapsed=elapsed)


@contextmanager
def heartbeat(run_id: str, every: float) -> Iterator[None]:
    """Keeps heartbeat_at fresh from a helper thread while the run executes."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    services.run_heartbeat(run_id)
                except Exception:  # one missed beat is not worth the thread
                    logger.warning("heartbeat of run %s failed", run_id, exc_info=True)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
        close_old_connections()
