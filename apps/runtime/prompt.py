"""The system prompt and the message list a run starts from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from apps.runtime.protocol import PROTOCOL_INSTRUCTIONS
from apps.runtime.tools import ToolDefinition

ROLE_FOR_MESSAGE_TYPE = {"user": "user", "bot": "assistant", "delegation": "assistant"}


def _tool_section(tools: Sequence[ToolDefinition], json_protocol: bool) -> str:
    if not tools:
        return "You have no tools: answer directly." if json_protocol else ""
    lines = ["## Tools"]
    for tool in tools:
        lines.append(f"- {tool.name}: {tool.description}")
        if json_protocol:
            lines.append(f"  arguments (JSON Schema): {json.dumps(tool.parameters)}")
    return "\n".join(lines)


def build_system_prompt(
    *,
    persona: str | None,
    screenplay: str | None,
    conversation_context: str | None,
    tools: Sequence[ToolDefinition],
    json_protocol: bool,
    cwd: str,
) -> str:
    """The persona, then the screenplay as context, then the tools (SPEC §3)."""
    sections = [persona.strip() if persona else "You are a helpful assistant."]
    if screenplay:
        sections.append(f"## Screenplay (project context)\n\n{screenplay.strip()}")
    if conversation_context:
        sections.append(f"## Conversation context\n\n{conversation_context.strip()}")
    sections.append(f"Working directory: {cwd}")
    sections.append(_tool_section(tools, json_protocol))
    if json_protocol:
        sections.append(f"## Reply format\n\n{PROTOCOL_INSTRUCTIONS}")
    return "\n\n".join(section for section in sections if section)


def build_messages(
    system_prompt: str, history: Sequence[dict[str, Any]], user_input: str
) -> list[dict[str, Any]]:
    """System prompt, then the conversation's history (contextual runs), then the input."""
    messages = [{"role": "system", "content": system_prompt}]
    for entry in history:
        role = ROLE_FOR_MESSAGE_TYPE.get(entry["type"], "user")
        messages.append({"role": role, "content": entry["content"]})
    messages.append({"role": "user", "content": user_input})
    return messages
