"""The offline demo model: a litellm custom provider that needs no key and no network.

It lets a newcomer watch a full run (one tool call, then an answer) through the
same litellm client path as a real model. It speaks the JSON protocol of
SPEC §3 and says plainly, in every answer, that it is the offline demo.

This module does not import litellm at import time; ``ensure_registered()``
does, and the handler class is built then.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import AsyncIterator, Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from apps.runtime.providers import DEMO_MODEL

if TYPE_CHECKING:
    from litellm import CustomLLM
    from litellm.types.utils import GenericStreamingChunk, ModelResponse

PROVIDER = "conductor"
DEMO_TOOL = "list_agents"
MARK = "[offline demo]"
STREAM_PIECES = 4

_LIST_AGENTS_RE = re.compile(rf"\b{DEMO_TOOL}\b")
_OBSERVATION_RE = re.compile(r"^\s*observation\b\s*:?\s*", re.IGNORECASE)
_registration_lock = threading.Lock()

Message = Mapping[str, Any]


# --- what the demo model says ---------------------------------------------------


def demo_reply(messages: Sequence[Message], tool_names: Collection[str] = ()) -> str:
    """The JSON-protocol reply: call ``list_agents`` once if offered, then answer."""
    request, observation = _request_and_observation(messages)
    if observation is None and _offers_demo_tool(messages, tool_names):
        thought = f"{MARK} I start by looking at the agents of this Conductor."
        return json.dumps({"thought": thought, "action": {"tool": DEMO_TOOL, "arguments": {}}})
    thought = f"{MARK} I have what I need; I answer now."
    return json.dumps({"thought": thought, "final_answer": final_answer(request, observation)})


def final_answer(request: str, observation: str | None) -> str:
    parts = [
        f"{MARK} This answer comes from Conductor's offline demo model, not a real LLM;"
        " no provider was called.",
        f'You asked: "{_shorten(request, 200)}".' if request else "You sent no request text.",
        f"The last tool result was: {_shorten(_OBSERVATION_RE.sub('', observation), 300)}."
        if observation
        else "No tool was called.",
        "Set a provider key such as OPENAI_API_KEY to run a real model.",
    ]
    return " ".join(parts)


def _request_and_observation(messages: Sequence[Message]) -> tuple[str, str | None]:
    request, observation, after_action = "", None, False
    for message in messages:
        role, text = message.get("role"), message_text(message)
        if role == "assistant":
            after_action = '"action"' in text or bool(message.get("tool_calls"))
        elif role == "tool" or (role == "user" and (after_action or _OBSERVATION_RE.match(text))):
            observation, after_action = text, False
        elif role == "user":
            request = text
    return request, observation


def _offers_demo_tool(messages: Sequence[Message], tool_names: Collection[str]) -> bool:
    if DEMO_TOOL in tool_names:
        return True
    system = (message_text(m) for m in messages if m.get("role") == "system")
    return any(_LIST_AGENTS_RE.search(text) for text in system)


def message_text(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def word_count(text: str) -> int:
    return max(1, len(text.split()))


def _tool_names(optional_params: Mapping[str, Any] | None) -> list[str]:
    tools = (optional_params or {}).get("tools") or []
    return [str(t.get("function", {}).get("name")) for t in tools if isinstance(t, dict)]


def _usage(messages: Sequence[Message], reply: str) -> dict[str, int]:
    prompt = sum(word_count(message_text(m)) for m in messages)
    completion = word_count(reply)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _pieces(text: str, count: int = STREAM_PIECES) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# --- the litellm provider -------------------------------------------------------


def ensure_registered() -> None:
    """Registers the ``conductor`` provider with litellm once per process; safe to repeat."""
    import litellm

    with _registration_lock:
        if any(item["provider"] == PROVIDER for item in litellm.custom_provider_map):
            return
        handler = _handler_class()()
        litellm.custom_provider_map = [
            *litellm.custom_provider_map,
            {"provider": PROVIDER, "custom_handler": handler},
        ]
        # After the provider, so that litellm recognises the model's prefix.
        litellm.register_model({DEMO_MODEL: _PRICE_ENTRY})


# Zero prices let litellm's cost calculation answer 0 instead of failing.
_PRICE_ENTRY = {
    "litellm_provider": PROVIDER,
    "mode": "chat",
    "input_cost_per_token": 0.0,
    "output_cost_per_token": 0.0,
    "cache_read_input_token_cost": 0.0,
    "cache_creation_input_token_cost": 0.0,
    "supports_function_calling": False,
    "supports_vision": False,
}


def _fill(response: ModelResponse, messages: Sequence[Message], reply: str) -> ModelResponse:
    from litellm.types.utils import Usage

    response.choices[0].message.content = reply  # type: ignore[union-attr]
    response.choices[0].finish_reason = "stop"
    response.model = DEMO_MODEL
    counts = _usage(messages, reply)
    response.usage = Usage(  # type: ignore[attr-defined]
        prompt_tokens=counts["prompt_tokens"],
        completion_tokens=counts["completion_tokens"],
        total_tokens=counts["total_tokens"],
    )
    return response


def _chunks(messages: Sequence[Message], reply: str) -> Iterator[GenericStreamingChunk]:
    pieces = _pieces(reply)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        yield {
            "text": piece,
            "tool_use": None,
            "is_finished": last,
            "finish_reason": "stop" if last else "",
            "usage": _usage(messages, reply) if last else None,  # type: ignore[typeddict-item]
            "index": 0,
        }


@functools.cache
def _handler_class() -> type[CustomLLM]:
    from litellm import CustomLLM

    class OfflineDemoLLM(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
            messages = kwargs["messages"]
            reply = demo_reply(messages, _tool_names(kwargs.get("optional_params")))
            return _fill(kwargs["model_response"], messages, reply)

        async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
            return self.completion(*args, **kwargs)

        def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
            messages = kwargs["messages"]
            reply = demo_reply(messages, _tool_names(kwargs.get("optional_params")))
            return _chunks(messages, reply)

        async def astreaming(  # type: ignore[override]
            self, *args: Any, **kwargs: Any
        ) -> AsyncIterator[GenericStreamingChunk]:
            for chunk in self.streaming(*args, **kwargs):
                yield chunk

    return OfflineDemoLLM
