"""The ReAct loop: think, call a tool, observe, until a final answer or a limit."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from apps.runtime.llm import (
    CallControl,
    LLMCall,
    LLMCancelled,
    LLMFailed,
    LLMReply,
    LLMTimedOut,
    ToolCall,
    complete,
)
from apps.runtime.protocol import PROTOCOL_INSTRUCTIONS, ProtocolError, parse_reply
from apps.runtime.tools import ToolContext, ToolDefinition, ToolResult, ToolSource, execute_tool

OBSERVATION_MAX_CHARS = 20_000


@dataclass(frozen=True)
class LoopConfig:
    model: str
    fallbacks: list[str]
    max_steps: int
    deadline: float  # time.monotonic() value
    native_tools: bool
    max_cost_usd: Decimal | None = None
    max_tokens: int | None = None
    num_retries: int = 2
    llm_timeout: float | None = None
    poll_seconds: float = 0.25
    pre_approved: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LoopOutcome:
    status: str  # succeeded | failed | cancelled | timed_out | requires_approval
    result: str = ""
    error: str = ""
    # requires_approval: the calls still to make (the first waits for a human)
    # and the conversation so far, from which the loop resumes.
    pending: list[ToolCall] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps_used: int = 0


@dataclass(frozen=True)
class Decision:
    """A human's answer to the approval the loop paused on."""

    approved: bool
    reason: str = ""


class LoopObserver(Protocol):
    """What the loop reports as it goes; the runs app persists it as steps and events.

    The observer may hold reports until ``flush``, which the loop calls before it calls
    the model or a tool, and when it stops: nothing it reported then waits on either.
    """

    def flush(self) -> None: ...
    def llm_delta(self, text: str) -> None: ...
    def llm_completed(self, reply: LLMReply) -> None: ...
    def tool_called(self, call: ToolCall) -> None: ...
    def tool_result(self, call: ToolCall, result: ToolResult) -> None: ...
    def tool_pre_approved(self, call: ToolCall) -> None: ...
    def final_answer(self, text: str) -> None: ...
    def should_cancel(self) -> bool: ...


@dataclass
class _Usage:
    cost_usd: Decimal = Decimal(0)
    tokens: int = 0


def observation(result: ToolResult) -> str:
    body = {"success": result.success, "result": result.result, "error": result.error}
    return json.dumps(body, default=str)[:OBSERVATION_MAX_CHARS]


class Loop:
    def __init__(
        self,
        *,
        config: LoopConfig,
        tools: list[ToolDefinition],
        registry: ToolSource,
        context: ToolContext,
        observer: LoopObserver,
    ) -> None:
        self.config = config
        self.tools = {tool.name: tool for tool in tools}
        self.schemas = [tool.openai_schema() for tool in tools]
        self.registry = registry
        self.context = context
        self.observer = observer
        self.usage = _Usage()
        self.steps_used = 0

    def run(self, messages: list[dict[str, Any]], *, steps_used: int = 0) -> LoopOutcome:
        try:
            return self._run(messages, steps_used)
        finally:
            self.observer.flush()

    def _run(self, messages: list[dict[str, Any]], steps_used: int) -> LoopOutcome:
        self.steps_used = steps_used
        while self.steps_used < self.config.max_steps:
            outcome = self._limits_reached()
            if outcome is None:
                self.steps_used += 1
                outcome = self._step(messages)
            if outcome is not None:
                return outcome
        return LoopOutcome(
            "failed", error=f"reached max_steps ({self.config.max_steps}) without a final answer"
        )

    def resume(
        self,
        messages: list[dict[str, Any]],
        *,
        pending: list[ToolCall],
        decision: Decision,
        steps_used: int,
    ) -> LoopOutcome:
        """Continues a loop that paused for approval of ``pending[0]``."""
        try:
            return self._resume(messages, pending, decision, steps_used)
        finally:
            self.observer.flush()

    def _resume(
        self,
        messages: list[dict[str, Any]],
        pending: list[ToolCall],
        decision: Decision,
        steps_used: int,
    ) -> LoopOutcome:
        self.steps_used = steps_used
        first, rest = pending[0], pending[1:]
        if decision.approved:
            result = self._execute(first)
        else:
            result = ToolResult(
                success=False, error=f"The call was not approved: {decision.reason}"
            )
        self.observer.tool_result(first, result)
        self._observe(first, result, messages)
        return self._calls(rest, messages) or self._run(messages, self.steps_used)

    def _limits_reached(self) -> LoopOutcome | None:
        if self.observer.should_cancel():
            return LoopOutcome("cancelled", error="cancelled")
        if time.monotonic() >= self.config.deadline:
            return LoopOutcome("timed_out", error="the run's wall-clock timeout was reached")
        return None

    def _call_llm(self, messages: list[dict[str, Any]]) -> LLMReply:
        call = LLMCall(
            model=self.config.model,
            messages=messages,
            tools=self.schemas if self.config.native_tools and self.schemas else None,
            num_retries=self.config.num_retries,
            timeout=self.config.llm_timeout,
        )
        control = CallControl(
            on_delta=self.observer.llm_delta,
            should_stop=self.observer.should_cancel,
            deadline=self.config.deadline,
            poll_seconds=self.config.poll_seconds,
        )
        self.observer.flush()
        return complete(call, fallbacks=self.config.fallbacks, control=control)

    def _step(self, messages: list[dict[str, Any]]) -> LoopOutcome | None:
        try:
            reply = self._call_llm(messages)
        except LLMCancelled:
            return LoopOutcome("cancelled", error="cancelled during a model call")
        except LLMTimedOut:
            return LoopOutcome("timed_out", error="the run's wall-clock timeout was reached")
        except LLMFailed as exc:
            return LoopOutcome("failed", error=f"model provider error: {exc}")
        self.observer.llm_completed(reply)
        return self._over_budget(reply) or (
            self._native(reply, messages)
            if self.config.native_tools
            else self._json(reply, messages)
        )

    def _over_budget(self, reply: LLMReply) -> LoopOutcome | None:
        self.usage.cost_usd += reply.cost_usd
        self.usage.tokens += reply.total_tokens
        max_cost, max_tokens = self.config.max_cost_usd, self.config.max_tokens
        if max_cost is not None and self.usage.cost_usd > max_cost:
            return LoopOutcome(
                "failed", error=f"cost budget exceeded: ${self.usage.cost_usd} > ${max_cost}"
            )
        if max_tokens is not None and self.usage.tokens > max_tokens:
            return LoopOutcome(
                "failed", error=f"token budget exceeded: {self.usage.tokens} > {max_tokens}"
            )
        return None

    def _finish(self, text: str) -> LoopOutcome:
        self.observer.final_answer(text)
        return LoopOutcome("succeeded", result=text)

    def _execute(self, call: ToolCall) -> ToolResult:
        if call.name not in self.tools:
            return ToolResult(success=False, error=f"Tool {call.name!r} is not available.")
        if call.arguments is None:
            return ToolResult(success=False, error="The arguments were not a JSON object.")
        self.observer.flush()
        return execute_tool(self.registry, call.name, call.arguments, self.context)

    def _needs_approval(self, call: ToolCall) -> bool:
        tool = self.tools.get(call.name)
        if tool is None or not tool.requires_approval or call.arguments is None:
            return False
        if call.name in self.config.pre_approved:
            self.observer.tool_pre_approved(call)
            return False
        return True

    def _observe(self, call: ToolCall, result: ToolResult, messages: list[dict[str, Any]]) -> None:
        if self.config.native_tools:
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": observation(result)}
            )
        else:
            messages.append({"role": "user", "content": f"Observation: {observation(result)}"})

    def _calls(self, calls: list[ToolCall], messages: list[dict[str, Any]]) -> LoopOutcome | None:
        """Makes the calls in order; pauses at the first one that needs a human's approval."""
        for position, call in enumerate(calls):
            self.observer.tool_called(call)
            if self._needs_approval(call):
                return LoopOutcome(
                    "requires_approval",
                    pending=calls[position:],
                    messages=messages,
                    steps_used=self.steps_used,
                )
            result = self._execute(call)
            self.observer.tool_result(call, result)
            self._observe(call, result, messages)
        return None

    def _native(self, reply: LLMReply, messages: list[dict[str, Any]]) -> LoopOutcome | None:
        if not reply.tool_calls:
            return self._finish(reply.content)
        messages.append(
            {
                "role": "assistant",
                "content": reply.content or None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.raw_arguments},
                    }
                    for call in reply.tool_calls
                ],
            }
        )
        return self._calls(reply.tool_calls, messages)

    def _json(self, reply: LLMReply, messages: list[dict[str, Any]]) -> LoopOutcome | None:
        messages.append({"role": "assistant", "content": reply.content})
        try:
            parsed = parse_reply(reply.content)
        except ProtocolError as exc:
            messages.append(
                {"role": "user", "content": f"Observation: {exc}.\n{PROTOCOL_INSTRUCTIONS}"}
            )
            return None
        if parsed.final_answer is not None:
            return self._finish(parsed.final_answer)
        call_id = f"json-{len(messages)}"
        call = ToolCall(call_id, parsed.tool or "", parsed.arguments, json.dumps(parsed.arguments))
        return self._calls([call], messages)
