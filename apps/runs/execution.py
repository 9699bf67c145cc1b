"""Executes a claimed run: the runtime loop, with every step persisted and emitted."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from apps.conversations.selectors import conversation_history
from apps.runs import events, services
from apps.runs.models import ContextMode, Run, RunStatus, RunStepKind
from apps.runtime.llm import LLMReply, ToolCall, supports_native_tools
from apps.runtime.loop import Loop, LoopConfig, LoopOutcome
from apps.runtime.prompt import build_messages, build_system_prompt
from apps.runtime.tools import ToolContext, ToolResult, registry

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 50


class RunObserver:
    """Turns what the loop reports into run steps and events."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._cancel_checked_at = 0.0
        self._cancelled = False

    def llm_delta(self, text: str) -> None:
        services.run_event_emit(self.run, events.LLM_DELTA, {"text": text})

    def llm_completed(self, reply: LLMReply) -> None:
        payload = {
            "model": reply.model,
            "content": reply.content,
            "tool_calls": [{"id": c.id, "name": c.name} for c in reply.tool_calls],
        }
        services.run_record_step(
            run=self.run,
            kind=RunStepKind.LLM_CALL,
            payload=payload,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost_usd=reply.cost_usd,
            latency_ms=reply.latency_ms,
        )
        usage = {
            "model": reply.model,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "cost_usd": str(reply.cost_usd),
            "latency_ms": reply.latency_ms,
        }
        services.run_event_emit(self.run, events.LLM_COMPLETED, usage)

    def tool_called(self, call: ToolCall) -> None:
        payload = {"id": call.id, "tool": call.name, "arguments": call.arguments}
        services.run_record_step(run=self.run, kind=RunStepKind.TOOL_CALL, payload=payload)
        services.run_event_emit(self.run, events.TOOL_CALLED, payload)

    def tool_result(self, call: ToolCall, result: ToolResult) -> None:
        payload = {
            "id": call.id,
            "tool": call.name,
            "success": result.success,
            "result": result.result,
            "error": result.error,
            "duration_ms": result.duration_ms,
        }
        services.run_record_step(
            run=self.run,
            kind=RunStepKind.TOOL_RESULT,
            payload=_jsonable(payload),
            latency_ms=result.duration_ms,
        )
        services.run_event_emit(self.run, events.TOOL_RESULT, _jsonable(payload))

    def final_answer(self, text: str) -> None:
        services.run_record_step(
            run=self.run, kind=RunStepKind.FINAL_ANSWER, payload={"text": text}
        )

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if (
            not self._cancelled
            and now - self._cancel_checked_at >= settings.CONDUCTOR_CANCEL_POLL_SECONDS
        ):
            self._cancel_checked_at = now
            self._cancelled = services.run_cancel_requested(str(self.run.pk))
        return self._cancelled


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def _system_prompt(run: Run, json_protocol: bool) -> str:
    persona = run.agent.persona
    return build_system_prompt(
        persona=persona.content if persona else None,
        screenplay=run.screenplay.content if run.screenplay else None,
        conversation_context=run.conversation.context if run.conversation else None,
        tools=registry.definitions(run.agent.tools),
        json_protocol=json_protocol,
        cwd=run.cwd,
    )


def _history(run: Run) -> list[dict[str, Any]]:
    if run.context_mode != ContextMode.CONTEXTUAL or run.conversation_id is None:
        return []
    return conversation_history(conversation_id=run.conversation_id, limit=HISTORY_LIMIT)


def _loop(run: Run, native: bool) -> Loop:
    config = LoopConfig(
        model=run.model,
        fallbacks=list(run.agent.fallback_models),
        max_steps=run.max_steps,
        deadline=time.monotonic() + run.timeout_seconds,
        native_tools=native,
        max_cost_usd=run.max_cost_usd,
        max_tokens=run.max_tokens,
        num_retries=settings.CONDUCTOR_LLM_NUM_RETRIES,
        poll_seconds=settings.CONDUCTOR_CANCEL_POLL_SECONDS,
    )
    context = ToolContext(run_id=str(run.pk), user_id=run.created_by_id, cwd=run.cwd)
    tools = registry.definitions(run.agent.tools)
    return Loop(
        config=config, tools=tools, registry=registry, context=context, observer=RunObserver(run)
    )


def execute(run: Run) -> Run:
    """Runs the loop for a claimed run and finishes it, whatever happens."""
    try:
        native = supports_native_tools(run.model)
        messages = build_messages(_system_prompt(run, not native), _history(run), run.input)
        outcome = _loop(run, native).run(messages)
    except Exception as exc:
        logger.exception("run %s crashed", run.pk)
        outcome = LoopOutcome("failed", error=f"internal error: {type(exc).__name__}: {exc}")
    return services.run_finish(
        run=run, status=RunStatus(outcome.status), result=outcome.result, error=outcome.error
    )


@contextmanager
def heartbeat(run_id: str, every: float) -> Iterator[None]:
    """Keeps heartbeat_at fresh from a helper thread while the run executes."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                services.run_heartbeat(run_id)
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
