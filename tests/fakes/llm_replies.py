"""Scripted replies for FakeLLMServer: what the fake LLM answers to the next request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

UsageSpec = Mapping[str, int] | None

ERROR_KINDS = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("invalid_request_error", "invalid_api_key"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
    500: ("server_error", "internal_error"),
    503: ("server_error", "service_unavailable"),
}


@dataclass(frozen=True)
class Text:
    content: str
    usage: UsageSpec = None
    chunks: int = 4


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: Mapping[str, Any] | str
    call_id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")

    @property
    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


@dataclass(frozen=True)
class ToolCalls:
    calls: tuple[ToolCall, ...]
    content: str | None = None
    usage: UsageSpec = None
    chunks: int = 3


@dataclass(frozen=True)
class Error:
    status: int
    message: str
    type: str
    code: str
    retry_after: float | None = None


@dataclass(frozen=True)
class RawHTTP:
    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class Slow:
    seconds: float
    reply: Reply
    per_chunk_delay: float = 0.0


@dataclass(frozen=True)
class Stall:
    reply: Text | ToolCalls
    after_chunks: int
    seconds: float


Reply = Text | ToolCalls | Error | RawHTTP | Slow | Stall
Completion = Text | ToolCalls


def text(content: str, *, usage: UsageSpec = None, chunks: int = 4) -> Text:
    """`chunks` is how many content deltas a streamed answer is split into."""
    return Text(content, usage, chunks)


def tool_call(
    name: str,
    arguments: Mapping[str, Any] | str,
    *,
    call_id: str | None = None,
    content: str | None = None,
    usage: UsageSpec = None,
) -> ToolCalls:
    """`arguments` may be a str to send deliberately broken JSON arguments."""
    call = ToolCall(name, arguments, call_id) if call_id else ToolCall(name, arguments)
    return ToolCalls((call,), content, usage)


def tool_calls(
    calls: Sequence[ToolCall | ToolCalls | tuple[str, Mapping[str, Any]]],
    *,
    content: str | None = None,
    usage: UsageSpec = None,
) -> ToolCalls:
    """Items may be `ToolCall`s, `tool_call(...)` replies, or (name, arguments) pairs."""
    return ToolCalls(tuple(_as_calls(calls)), content, usage)


def _as_calls(
    items: Sequence[ToolCall | ToolCalls | tuple[str, Mapping[str, Any]]],
) -> Iterator[ToolCall]:
    for item in items:
        if isinstance(item, ToolCalls):
            yield from item.calls
        elif isinstance(item, ToolCall):
            yield item
        else:
            yield ToolCall(*item)


def malformed(content: str = '{"thought": "x", "action": {"tool": ') -> Text:
    """A well-formed 200 completion whose content is truncated JSON."""
    return Text(content)


def raw_http(status: int, body: bytes, content_type: str = "application/json") -> RawHTTP:
    return RawHTTP(status, body, content_type)


def error(
    status: int, message: str = "fake LLM error", *, retry_after: float | None = None
) -> Error:
    kind, code = ERROR_KINDS.get(status, ("server_error", str(status)))
    return Error(status, message, kind, code, retry_after)


def slow(seconds: float, reply: Reply, *, per_chunk_delay: float = 0.0) -> Slow:
    return Slow(seconds, reply, per_chunk_delay)


def stall(reply: Text | ToolCalls, *, after_chunks: int, seconds: float) -> Stall:
    """Streams the first `after_chunks` chunks of `reply` (the role chunk counts), then
    goes silent for `seconds` before the rest: a provider that hangs mid-answer."""
    return Stall(reply, after_chunks, seconds)
