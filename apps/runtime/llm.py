"""The LLM gateway: every model call goes through litellm here.

litellm is imported lazily (it costs seconds). Calls stream when the provider
streams; the stream is pumped on a helper thread so that a cancel or the run's
deadline interrupts even a call that has not sent its first byte yet.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Any

logger = logging.getLogger(__name__)


PROVIDER_TIMEOUT_GRACE_SECONDS = 2.0
# A provider error this close to the run's deadline is the deadline's doing.
DEADLINE_MARGIN_SECONDS = 0.5


class LLMCancelled(Exception):
    pass


class LLMTimedOut(Exception):
    pass


class LLMFailed(Exception):
    """The provider failed after retries, and so did every fallback model."""


@dataclass(frozen=True)
class LLMCall:
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    num_retries: int = 2


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any] | None  # None: the model sent arguments that are not JSON
    raw_arguments: str


@dataclass(frozen=True)
class LLMReply:
    model: str
    content: str
    tool_calls: list[ToolCall]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    latency_ms: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@cache
def litellm_module() -> Any:
    import litellm

    from apps.runtime import demo_llm

    litellm.suppress_debug_info = True
    demo_llm.ensure_registered()
    return litellm


def supports_native_tools(model: str) -> bool:
    try:
        return bool(litellm_module().supports_function_calling(model=model))
    except Exception:  # unknown models speak the JSON protocol
        return False


# Calls abandoned on cancel or deadline finish on their helper thread; kept here so
# that a process about to exit can wait for them instead of tearing them down mid-call.
_pump_threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def wait_for_abandoned_calls(timeout: float) -> int:
    """Joins helper threads of abandoned calls; returns how many are still running."""
    deadline = time.monotonic() + timeout
    for thread in list(_pump_threads):
        thread.join(max(0.0, deadline - time.monotonic()))
    return sum(thread.is_alive() for thread in list(_pump_threads))


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _pumped(
    start: Callable[[], Any], interrupt: Callable[[], None], poll_seconds: float
) -> Iterator[Any]:
    """Items of ``start()``'s iterable, produced on a helper thread.

    ``interrupt`` is called while waiting and raises to abandon the call; the
    helper thread then ends on its own when the HTTP call returns or times out.
    """
    items: queue.Queue[Any] = queue.Queue()

    def pump() -> None:
        try:
            for item in start():
                items.put(item)
            items.put(_DONE)
        except BaseException as exc:  # handed to the caller's thread
            items.put(_Failure(exc))

    thread = threading.Thread(target=pump, name="llm-stream", daemon=True)
    _pump_threads.add(thread)
    thread.start()
    while True:
        try:
            item = items.get(timeout=poll_seconds)
        except queue.Empty:
            interrupt()
            continue
        if item is _DONE:
            return
        if isinstance(item, _Failure):
            raise item.exc
        interrupt()
        yield item


def _tool_calls(message: Any) -> list[ToolCall]:
    calls = []
    for raw in getattr(message, "tool_calls", None) or []:
        arguments_text = raw.function.arguments or "{}"
        try:
            arguments = json.loads(arguments_text)
        except json.JSONDecodeError:
            arguments = None
        if arguments is not None and not isinstance(arguments, dict):
            arguments = None
        calls.append(ToolCall(raw.id, raw.function.name, arguments, arguments_text))
    return calls


def _cost(litellm: Any, response: Any, model: str) -> Decimal:
    try:
        return Decimal(str(litellm.completion_cost(completion_response=response, model=model)))
    except Exception:
        logger.warning("no price known for model %s: cost recorded as 0", model)
        return Decimal(0)


def _reply(litellm: Any, response: Any, model: str, started: float) -> LLMReply:
    message = response.choices[0].message
    usage = getattr(response, "usage", None)
    return LLMReply(
        model=model,
        content=message.content or "",
        tool_calls=_tool_calls(message),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=_cost(litellm, response, model),
        latency_ms=int((time.monotonic() - started) * 1000),
    )


@dataclass
class CallControl:
    on_delta: Callable[[str], None]
    should_stop: Callable[[], bool]
    deadline: float  # time.monotonic() value
    poll_seconds: float = 0.25

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def interrupt(self) -> None:
        if self.should_stop():
            raise LLMCancelled()
        if self.remaining() <= 0:
            raise LLMTimedOut()


def _complete_one(call: LLMCall, control: CallControl) -> LLMReply:
    litellm = litellm_module()
    kwargs: dict[str, Any] = {
        "model": call.model,
        "messages": call.messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        # The run's own deadline (checked while waiting) decides; the provider's
        # timeout only backs it up, so that a timeout reads as the run's, not the provider's.
        "timeout": max(0.1, control.remaining()) + PROVIDER_TIMEOUT_GRACE_SECONDS,
        "num_retries": call.num_retries,
    }
    if call.tools:
        kwargs["tools"] = call.tools
    started = time.monotonic()
    chunks = []
    for chunk in _pumped(
        lambda: litellm.completion(**kwargs), control.interrupt, control.poll_seconds
    ):
        chunks.append(chunk)
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta:
            control.on_delta(delta)
    response = litellm.stream_chunk_builder(chunks, messages=call.messages)
    if response is None:
        raise LLMFailed(f"{call.model} returned an empty stream")
    return _reply(litellm, response, call.model, started)


def _is_provider_error(exc: BaseException) -> bool:
    import openai

    return isinstance(exc, openai.OpenAIError | LLMFailed)


def complete(call: LLMCall, *, fallbacks: list[str], control: CallControl) -> LLMReply:
    """Calls the model (with litellm's retries), then each fallback model in turn."""
    failures = []
    for model in [call.model, *fallbacks]:
        try:
            return _complete_one(replace(call, model=model), control)
        except (LLMCancelled, LLMTimedOut):
            raise
        except Exception as exc:
            if control.remaining() <= DEADLINE_MARGIN_SECONDS:
                raise LLMTimedOut() from exc
            if not _is_provider_error(exc):
                raise
            logger.warning("model %s failed: %s", model, exc)
            failures.append(f"{model}: {_provider_message(exc)}")
    raise LLMFailed("; ".join(failures))


def _provider_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:500]
