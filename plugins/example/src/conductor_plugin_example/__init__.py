"""An example Conductor plugin: one tool, ``word_count``."""

from __future__ import annotations

from typing import Any

from apps.runtime.sdk import BaseTool, PluginRegistry, ToolCategory, ToolDefinition, ToolResult
from apps.runtime.tools import ToolContext


class WordCountTool(BaseTool):
    definition = ToolDefinition(
        name="word_count",
        description="Counts the words, characters and lines of a text.",
        parameters={
            "type": "object",
            "properties": {"text": {"type": "string", "description": "The text to count."}},
            "required": ["text"],
            "additionalProperties": False,
        },
        category=ToolCategory.DATA,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        text: str = arguments["text"]
        counts = {"words": len(text.split()), "characters": len(text), "lines": _lines(text)}
        return ToolResult(success=True, result=counts)


def _lines(text: str) -> int:
    return len(text.splitlines())


def register(registry: PluginRegistry) -> None:
    registry.register(WordCountTool())
