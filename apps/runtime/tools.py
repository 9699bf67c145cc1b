"""The tool interface the loop speaks to, and the registry that core code and plugins fill.

Plugin authors import the public names from :mod:`apps.runtime.sdk`.
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypedDict

from asgiref.sync import async_to_sync
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from apps.runtime.exceptions import (
    DuplicatePlugin,
    DuplicateTool,
    InvalidTool,
    UnknownTool,
)

__all__ = [
    "CORE",
    "BaseTool",
    "DuplicatePlugin",
    "DuplicateTool",
    "FailedPlugin",
    "InvalidTool",
    "PluginRegistry",
    "ToolCategory",
    "ToolContext",
    "ToolDefinition",
    "ToolRegistry",
    "ToolResult",
    "ToolSource",
    "UnknownTool",
    "argument_errors",
    "execute_tool",
    "registry",
]

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

logger = logging.getLogger(__name__)

CORE = "core"
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what OpenAI-style function calling accepts
MAX_REPORTED_ERRORS = 5


class ToolCategory(enum.StrEnum):
    WEB = "web"
    DATA = "data"
    CODE = "code"
    FILE = "file"
    SYSTEM = "system"
    CONDUCTOR = "conductor"
    MCP = "mcp"  # a tool of an external MCP server (apps.mcp_client)


@dataclass(frozen=True)
class ToolDefinition:
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    category: ToolCategory = ToolCategory.SYSTEM
    requires_approval: bool = False

    def __post_init__(self) -> None:
        # A plugin may write category="data"; a typo then fails at import, not mid-run.
        object.__setattr__(self, "category", ToolCategory(self.category))

    @cached_property
    def validator(self) -> Draft202012Validator:
        """The validator of ``parameters``, compiled on first use (and not again)."""
        return Draft202012Validator(self.parameters)

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


class ToolSource(Protocol):
    """Where the loop finds a tool by name: the registry, or a run's own set before it."""

    def get(self, name: str) -> BaseTool: ...


class FailedPlugin(TypedDict):
    name: str
    source: str  # the entry point ("module:attr") or the path it was loaded from
    error: str


class PluginRegistry:
    """Tools by name, each with its source: "core" or the name of the plugin that added it."""

    def __init__(self) -> None:
        self._tools: dict[str, BaseTool] = {}
        self._sources: dict[str, str] = {}
        self._plugins: dict[str, str] = {}  # installed plugin name -> where it came from
        self._failed: dict[tuple[str, str], FailedPlugin] = {}
        self._installing: str | None = None
        self._added: list[str] = []

    def register(self, tool: BaseTool | type[BaseTool], *, source: str | None = None) -> BaseTool:
        """Adds a tool. ``source`` defaults to the plugin being installed, else "core".

        Registering the same tool (instance or class) again from the same source replaces it
        quietly, because AppConfig.ready may run more than once.
        """
        instance = tool() if isinstance(tool, type) else tool
        name = _checked_name(instance)
        origin = source or self._installing or CORE
        existing = self._tools.get(name)
        if existing is not None and not self._is_same(existing, instance, origin):
            raise DuplicateTool(name, source=origin, existing_source=self.source_of(name))
        if existing is None and self._installing is not None:
            self._added.append(name)
        self._tools[name] = instance
        self._sources[name] = origin
        return instance

    def unregister(self, name: str) -> None:
        self._tools.pop(name, None)
        self._sources.pop(name, None)

    def get(self, name: str) -> BaseTool:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownTool(name) from None

    def source_of(self, name: str) -> str:
        self.get(name)
        return self._sources.get(name, CORE)

    def names(self) -> list[str]:
        return sorted(self._tools)

    def definitions(self, names: list[str] | None = None) -> list[ToolDefinition]:
        wanted = self.names() if names is None else [n for n in names if n in self._tools]
        return [self._tools[name].definition for name in wanted]

    def failed_plugins(self) -> list[FailedPlugin]:
        return [FailedPlugin(**failure) for failure in self._failed.values()]

    def install_plugin(
        self, name: str, source: str, install: Callable[[PluginRegistry], object]
    ) -> bool:
        """Runs ``install(self)`` as plugin ``name``; False when it failed.

        The tools it registers carry ``name`` as their source. A plugin that raises keeps none
        of its tools and is listed in :meth:`failed_plugins`; its error never propagates.
        Installing an installed plugin again from the same source does nothing.
        """
        if self._plugins.get(name) == source:
            return True
        self._failed.pop((name, source), None)
        try:
            self._install(name, source, install)
        except Exception as exc:
            logger.exception("plugin %r from %s failed to load", name, source)
            self._failed[(name, source)] = FailedPlugin(name=name, source=source, error=_error(exc))
            return False
        self._plugins[name] = source
        return True

    def uninstall_plugin(self, name: str) -> None:
        """Forgets a plugin: its tools, and whether it loaded or failed (for tests)."""
        for tool_name in [tool for tool, source in self._sources.items() if source == name]:
            self.unregister(tool_name)
        self._plugins.pop(name, None)
        self._failed = {key: failure for key, failure in self._failed.items() if key[0] != name}

    def load_plugins(
        self,
        *,
        entry_points: Iterable[EntryPoint] | None = None,
        plugin_dirs: Iterable[str | Path] | None = None,
    ) -> None:
        """Installs the plugins of the ``conductor.plugins`` entry points and plugin directories.

        Defaults: the installed packages' entry points and ``settings.CONDUCTOR_PLUGIN_DIRS``.
        """
        from apps.runtime.plugins import load_plugins

        load_plugins(self, entry_points=entry_points, plugin_dirs=plugin_dirs)

    def _install(self, name: str, source: str, install: Callable[[PluginRegistry], object]) -> None:
        self._check_plugin_name(name, source)
        with self._installing_as(name) as added:
            try:
                install(self)
            except Exception:
                for tool_name in added:
                    self.unregister(tool_name)
                raise

    def _check_plugin_name(self, name: str, source: str) -> None:
        if name == CORE:
            raise DuplicatePlugin(f"the plugin name {CORE!r} is reserved for Conductor's tools")
        if name in self._plugins:
            raise DuplicatePlugin(
                f"plugin {name!r} from {source} duplicates the one from {self._plugins[name]}"
            )

    @contextmanager
    def _installing_as(self, name: str) -> Iterator[list[str]]:
        self._installing, self._added = name, []
        try:
            yield self._added
        finally:
            self._installing, self._added = None, []

    def _is_same(self, existing: BaseTool, tool: BaseTool, source: str) -> bool:
        name = tool.definition.name
        return type(existing) is type(tool) and self._sources.get(name, CORE) == source


ToolRegistry = PluginRegistry  # the name before plugins existed

registry = PluginRegistry()


def _checked_name(tool: object) -> str:
    definition = getattr(tool, "definition", None)
    if not isinstance(tool, BaseTool) or not isinstance(definition, ToolDefinition):
        raise InvalidTool(f"{tool!r} is not a BaseTool with a ToolDefinition")
    if not TOOL_NAME.match(definition.name):
        raise InvalidTool(f"tool name {definition.name!r} must be 1-64 letters, digits, '_' or '-'")
    _check_parameters(definition)
    return definition.name


def _check_parameters(definition: ToolDefinition) -> None:
    schema = definition.parameters
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise InvalidTool(f"tool {definition.name!r}: parameters must be a schema of type object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidTool(
            f"tool {definition.name!r} has an invalid parameters schema: "
            f"{exc.json_path}: {exc.message}"
        ) from None


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def argument_errors(definition: ToolDefinition, arguments: Any) -> str | None:
    """What is wrong with ``arguments`` for this tool, as one line; None when they are valid."""
    errors = sorted(
        definition.validator.iter_errors(arguments),
        key=lambda error: error.json_path,
    )
    if not errors:
        return None
    return "; ".join(f"{e.json_path}: {e.message}" for e in errors[:MAX_REPORTED_ERRORS])


def execute_tool(
    tools: ToolSource, name: str, arguments: dict[str, Any], context: ToolContext
) -> ToolResult:
    """Runs one tool call; every failure becomes an error result, never an exception."""
    started = time.monotonic()
    try:
        result = _validated_run(tools.get(name), arguments, context)
    except UnknownTool:
        result = ToolResult(success=False, error=f"Unknown tool {name!r}.")
    except Exception as exc:  # a tool's crash is an observation for the model
        result = ToolResult(success=False, error=_error(exc))
    elapsed = int((time.monotonic() - started) * 1000)
    return result if result.duration_ms else _with_duration(result, elapsed)


def _validated_run(tool: BaseTool, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
    problem = argument_errors(tool.definition, arguments)
    if problem is not None:
        return ToolResult(success=False, error=f"invalid arguments: {problem}")
    return async_to_sync(tool.run)(arguments, context)


def _with_duration(result: ToolResult, duration_ms: int) -> ToolResult:
    return ToolResult(result.success, result.result, result.error, duration_ms)
