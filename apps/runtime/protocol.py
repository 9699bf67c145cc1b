"""The JSON protocol for models without native tool calling (SPEC §3).

The model answers ``{"thought", "action": {"tool", "arguments"}}`` or
``{"thought", "final_answer"}``. Replies often wrap the JSON in a code fence or
in prose; the parser finds the first JSON object that fits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_INSTRUCTIONS = """Answer with one JSON object and nothing else.
To use a tool: {"thought": "<why>", "action": {"tool": "<tool name>", "arguments": {...}}}
To finish: {"thought": "<why>", "final_answer": "<your answer>"}"""


class ProtocolError(ValueError):
    pass


@dataclass(frozen=True)
class ProtocolReply:
    thought: str = ""
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    final_answer: str | None = None


def _json_objects(text: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    found = []
    position = text.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        position = text.find("{", end)
    return found


def _reply(obj: dict[str, Any]) -> ProtocolReply | None:
    thought = str(obj.get("thought", ""))
    if "final_answer" in obj:
        return ProtocolReply(thought=thought, final_answer=str(obj["final_answer"]))
    action = obj.get("action")
    if isinstance(action, dict) and isinstance(action.get("tool"), str):
        arguments = action.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise ProtocolError("action.arguments must be a JSON object")
        return ProtocolReply(thought=thought, tool=action["tool"], arguments=arguments)
    return None


def parse_reply(text: str) -> ProtocolReply:
    for obj in _json_objects(text):
        reply = _reply(obj)
        if reply is not None:
            return reply
    raise ProtocolError("no JSON object with an action or a final_answer was found")
