"""The LLM gateway: every model call goes through litellm here.

litellm is imported lazily (it costs seconds). Calls stream when the provider
streams; the stream is pumped on a helper thread so that a cancel or the run's
deadline interrupts even a call that has not sent its first byte yet.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Any

from apps.runtime.providers import redact_provider_keys

logger = logging.getLogger(__name__)


PROVIDER_TIMEOUT_GRACE_SECONDS = 2.0
# A provider error this close to the run's deadline is the deadline's doing.
DEADLINE_MARGIN_SECONDS = 0.5
# Between attempts: the provider's Retry-After when it sends a sane one, else exponential.
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 8.0
RETRY_AFTER_MAX_SECONDS = 60.0


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
    # The longest wait for the provider's next byte; None: the run's deadline alone.
    timeout: float | None = None


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


def _without_idle_stream_logging(litellm: Any) -> None:
    """Skips litellm's logging of every streamed chunk while no callback would read it.

    That logging runs on litellm's threads (an event loop per chunk): about 2 ms of CPU
    per call, taken from the run's own thread through the GIL.
    """
    listening = litellm.success_callback or litellm._async_success_callback or litellm.callbacks
    litellm.disable_streaming_logging = not listening


def supports_native_tools(model: str) -> bool:
    try:
        return bool(litellm_module().supports_function_calling(model=model))
    except Exception:  # unknown models speak the JSON protocol
        return False


MAX_IDLE_HELPERS = 8


class _Helpers:
    """Daemon threads that stream the calls; one whose call is over waits for the next.

    A thread started per call costs the run's thread a wait for the new one to be
    scheduled, at every step.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []
        self._pid = os.getpid()
        # Calls abandoned on cancel or deadline finish on their helper thread; counted
        # here so that a process about to exit can wait for them.
        self.in_flight: set[threading.Event] = set()

    def run(self, job: Callable[[], None]) -> None:
        done = threading.Event()
        with self._lock:
            if self._pid != os.getpid():  # a forked child has none of its parent's threads
                self._idle, self.in_flight, self._pid = [], set(), os.getpid()
            inbox = self._idle.pop() if self._idle else None
            self.in_flight.add(done)
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(
                target=self._serve, args=(inbox,), name="llm-stream", daemon=True
            ).start()
        inbox.put(lambda: self._finish(job, done))

    def _finish(self, job: Callable[[], None], done: threading.Event) -> None:
        try:
            job()
        finally:
            with self._lock:
                self.in_flight.discard(done)
            done.set()

    def _serve(self, inbox: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            inbox.get()()
            with self._lock:
                if len(self._idle) >= MAX_IDLE_HELPERS:
                    return
                self._idle.append(inbox)


_helpers = _Helpers()


def wait_for_abandoned_calls(timeout: float) -> int:
    """Waits for the calls still on helper threads; returns how many are still running."""
    deadline = time.monotonic() + timeout
    for done in list(_helpers.in_flight):
        done.wait(max(0.0, deadline - time.monotonic()))
    return len(_helpers.in_flight)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_DONE = object()


def _pumped(
    start: Callable[[], Any], interrupt: Callable[[], None], poll_seconds: float
) -> Iterator[Any]:
    """Items of ``start()``'s iterable, produced on a helper thread.

    ``interrupt`` is called while waiting and raises to abandon the call; the
    helper thread then goes on by itself until the HTTP call returns or times out.
    """
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def pump() -> None:
        try:
            for item in start():
                items.put(item)
            items.put(_DONE)
        except BaseException as exc:  # handed to the caller's thread
            items.put(_Failure(exc))

    _helpers.run(pump)
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
        "timeout": _provider_timeout(call, control),
        # complete() retries: litellm's num_retries would retry twice over on the providers
        # it reaches through the OpenAI SDK (the SDK's retries, then as many again).
        "num_retries": 0,
    }
    if call.tools:
        kwargs["tools"] = call.tools
    _without_idle_stream_logging(litellm)
    started = time.monotonic()

    def produce() -> Iterator[str | LLMReply]:
        """The text deltas as they stream, then the reply: litellm's work, all of it here."""
        chunks = []
        for chunk in litellm.completion(**kwargs):
            chunks.append(chunk)
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                yield delta
        response = litellm.stream_chunk_builder(chunks, messages=call.messages)
        if response is None:
            raise LLMFailed(f"{call.model} returned an empty stream")
        yield _reply(litellm, response, call.model, started)

    # On the helper thread, so that the run's thread wakes up only for what it must
    # handle: every hand-over between threads waits for the GIL.
    for item in _pumped(produce, control.interrupt, control.poll_seconds):
        if isinstance(item, LLMReply):
            return item
        control.on_delta(item)
    raise LLMFailed(f"{call.model} returned no reply")


def _provider_timeout(call: LLMCall, control: CallControl) -> float:
    """The call's own timeout when it comes first; else the run's deadline (checked while
    waiting) decides, the provider's timeout only backing it up so that it reads as the run's.
    """
    until_deadline = max(0.1, control.remaining()) + PROVIDER_TIMEOUT_GRACE_SECONDS
    return until_deadline if call.timeout is None else min(call.timeout, until_deadline)


def _is_transient(exc: BaseException) -> bool:
    """Rate limits, server errors, timeouts and dropped connections: worth another attempt."""
    import openai

    if isinstance(exc, openai.APIConnectionError):  # timeouts included
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)


def _retry_delay(exc: BaseException, attempt: int) -> float:
    headers = getattr(exc, "litellm_response_headers", None) or getattr(
        getattr(exc, "response", None), "headers", None
    )
    lowered = {str(name).lower(): value for name, value in (headers or {}).items()}
    try:
        retry_after = float(lowered.get("retry-after", ""))
    except (TypeError, ValueError):
        retry_after = 0.0
    if 0 < retry_after <= RETRY_AFTER_MAX_SECONDS:
        return retry_after
    return min(RETRY_BASE_SECONDS * 2**attempt, RETRY_MAX_SECONDS)


def _wait(seconds: float, control: CallControl) -> None:
    """Sleeps, still honouring a cancel and the run's deadline."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        time.sleep(min(left, control.poll_seconds))
        control.interrupt()


def _complete_with_retries(call: LLMCall, control: CallControl) -> LLMReply:
    """The call, then up to ``call.num_retries`` more attempts while its errors are transient.

    Not once its text has begun to stream: a retry would send the deltas again.
    """
    streamed: list[str] = []

    def on_delta(text: str) -> None:
        streamed.append(text)
        control.on_delta(text)

    watched = replace(control, on_delta=on_delta)
    attempt = 0
    while True:
        try:
            return _complete_one(call, watched)
        except (LLMCancelled, LLMTimedOut):
            raise
        except Exception as exc:
            if attempt >= call.num_retries or streamed or not _is_transient(exc):
                raise
            delay = _retry_delay(exc, attempt)
            logger.info(
                "model %s, attempt %d failed: %s", call.model, attempt + 1, _provider_message(exc)
            )
        attempt += 1
        _wait(delay, control)


def _is_provider_error(exc: BaseException) -> bool:
    import openai

    return isinstance(exc, openai.OpenAIError | LLMFailed)


def complete(call: LLMCall, *, fallbacks: list[str], control: CallControl) -> LLMReply:
    """Calls the model (retried while its errors are transient), then each fallback in turn."""
    failures = []
    for model in [call.model, *fallbacks]:
        try:
            return _complete_with_retries(replace(call, model=model), control)
        except (LLMCancelled, LLMTimedOut):
            raise
        except Exception as exc:
            if control.remaining() <= DEADLINE_MARGIN_SECONDS:
                raise LLMTimedOut() from exc
            if not _is_provider_error(exc):
                raise
            message = _provider_message(exc)
            logger.warning("model %s failed: %s", model, message)
            failures.append(f"{model}: {message}")
    raise LLMFailed("; ".join(failures))


def _provider_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return redact_provider_keys(" ".join(str(message).split()))[:500]
