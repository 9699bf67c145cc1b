"""OpenAI chat-completion bodies and stream chunks for a scripted reply."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from tests.fakes.llm_replies import Completion, Error, Text, ToolCalls

JSON = dict[str, Any]


def _words(content: Any) -> int:
    """Counts the words of a message content: a str or a list of {"text": ...} parts."""
    if isinstance(content, str):
        return len(content.split())
    if isinstance(content, list):
        return sum(_words(part.get("text")) for part in content if isinstance(part, Mapping))
    return 0


def _usage(reply: Completion, request: JSON) -> JSON:
    messages = request.get("messages") or []
    prompt = sum(_words(m.get("content")) for m in messages if isinstance(m, Mapping))
    completion = _words(reply.content)
    if isinstance(reply, ToolCalls):
        completion += sum(_words(call.arguments_json) for call in reply.calls)
    counted = {"prompt_tokens": max(1, prompt), "completion_tokens": max(1, completion)}
    usage = {**counted, **(reply.usage or {})}
    usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
    return usage


def _message(reply: Completion) -> JSON:
    if isinstance(reply, Text):
        return {"role": "assistant", "content": reply.content}
    return {"role": "assistant", "content": reply.content, "tool_calls": _tool_calls(reply)}


def _tool_calls(reply: ToolCalls) -> list[JSON]:
    return [
        {
            "id": call.call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments_json},
        }
        for call in reply.calls
    ]


def _finish_reason(reply: Completion) -> str:
    return "stop" if isinstance(reply, Text) else "tool_calls"


def _envelope(request: JSON, completion_id: str, obj: str) -> JSON:
    model = request.get("model", "fake-model")
    return {"id": completion_id, "object": obj, "created": int(time.time()), "model": model}


def completion_body(reply: Completion, request: JSON) -> JSON:
    choice = {
        "index": 0,
        "message": _message(reply),
        "finish_reason": _finish_reason(reply),
        "logprobs": None,
    }
    envelope = _envelope(request, _completion_id(), "chat.completion")
    return {**envelope, "choices": [choice], "usage": _usage(reply, request)}


def error_body(reply: Error) -> JSON:
    return {"error": {"message": reply.message, "type": reply.type, "code": reply.code}}


def _completion_id() -> str:
    return f"chatcmpl-fake-{uuid.uuid4().hex[:12]}"


def _split(value: str, pieces: int) -> list[str]:
    size = max(1, -(-len(value) // max(1, pieces)))
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def _text_deltas(reply: Text) -> Iterator[JSON]:
    yield {"role": "assistant", "content": ""}
    for piece in _split(reply.content, reply.chunks):
        yield {"content": piece}


def _tool_call_deltas(reply: ToolCalls) -> Iterator[JSON]:
    yield {"role": "assistant", "content": None}
    if reply.content:
        for piece in _split(reply.content, reply.chunks):
            yield {"content": piece}
    for index, call in enumerate(reply.calls):
        head = {"index": index, "id": call.call_id, "type": "function"}
        yield {"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]}
        for piece in _split(call.arguments_json, reply.chunks):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def stream_chunks(reply: Completion, request: JSON) -> Iterator[JSON]:
    """The chunks OpenAI would stream, including the usage-only last chunk on request."""
    envelope = _envelope(request, _completion_id(), "chat.completion.chunk")
    deltas = _text_deltas(reply) if isinstance(reply, Text) else _tool_call_deltas(reply)
    for delta in deltas:
        yield {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    last = {"index": 0, "delta": {}, "finish_reason": _finish_reason(reply)}
    yield {**envelope, "choices": [last]}
    if (request.get("stream_options") or {}).get("include_usage"):
        yield {**envelope, "choices": [], "usage": _usage(reply, request)}
