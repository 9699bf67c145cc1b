"""The tool interface the loop speaks to. Plugins build on these names."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asgiref.sync import async_to_sync


class ToolCategory(enum.StrEnum):
    WEB = "web"
    DATA = "data"
    CODE = "code"
    FILE = "file"
    SYSTEM = "system"
    CONDUCTOR = "conductor"


@dataclass(frozen=True)
class ToolDefinition:
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    category: ToolCategory = ToolCategory.SYSTEM
    requires_approval: bool = False

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolResult:
    success: bool
    result: Any = None
    error: str | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class ToolContext:
    run_id: str
    user_id: int | None
    cwd: str


class BaseTool:
    definition: ClassVar[ToolDefinition]

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        raise NotImplementedError


class UnknownTool(LookupError):
    pass


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, BaseTool] = {}

    def register(self, tool: BaseTool) -> BaseTool:
        self._tools[tool.definition.name] = tool
        return tool

    def get(self, name: str) -> BaseTool:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownTool(name) from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def definitions(self, names: list[str] | None = None) -> list[ToolDefinition]:
        wanted = self.names() if names is None else [n for n in names if n in self._tools]
        return [self._tools[name].definition for name in wanted]


registry = ToolRegistry()


def execute_tool(
    tools: ToolRegistry, name: str, arguments: dict[str, Any], context: ToolContext
) -> ToolResult:
    """Runs one tool call; every failure becomes an error result, never an exception."""
    started = time.monotonic()
    try:
        result = async_to_sync(tools.get(name).run)(arguments, context)
    except UnknownTool:
        result = ToolResult(success=False, error=f"Unknown tool {name!r}.")
    except Exception as exc:  # a tool's crash is an observation for the model
        result = ToolResult(success=False, error=f"{type(exc).__name__}: {exc}")
    elapsed = int((time.monotonic() - started) * 1000)
    return result if result.duration_ms else _with_duration(result, elapsed)


def _with_duration(result: ToolResult, duration_ms: int) -> ToolResult:
    return ToolResult(result.success, result.result, result.error, duration_ms)
