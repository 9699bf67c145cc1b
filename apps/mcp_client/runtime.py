"""The tools of a run's MCP servers: sessions opened when the run starts, closed when it ends.

``McpToolset.open`` connects to each server the run asked for, lists its tools and offers
them as ``<server>__<tool>``. The sessions live on the run's event loop (see
``apps.runs.execution.on_the_runs_loop``), which also runs every tool call, so a call is
one coroutine on that loop. A server that cannot be reached becomes a warning for the
run's events, or the run's failure when the agent marked it required.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from apps.mcp_client.configs import ServerUse
from apps.mcp_client.models import TOOL_SEPARATOR, McpServer
from apps.runtime.tools import (
    TOOL_NAME,
    BaseTool,
    ToolCategory,
    ToolContext,
    ToolDefinition,
    ToolResult,
    ToolSource,
)

if TYPE_CHECKING:
    from mcp.client.session import ClientSession

    from apps.mcp_client.client import RemoteTool

logger = logging.getLogger(__name__)

DESCRIPTION_MAX_CHARS = 2000


class McpTool(BaseTool):
    """One tool of a connected MCP server, called through the run's session."""

    def __init__(self, session: ClientSession, server: McpServer, remote: RemoteTool) -> None:
        self.session = session
        self.server = server
        self.remote_name = remote.name
        self.definition = ToolDefinition(  # type: ignore[misc]
            name=f"{server.name}{TOOL_SEPARATOR}{remote.name}",
            description=(remote.description or f"{remote.name} from {server.name}")[
                :DESCRIPTION_MAX_CHARS
            ],
            parameters=remote.input_schema or {"type": "object", "properties": {}},
            category=ToolCategory.MCP,
            requires_approval=server.requires_approval,
        )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        from apps.mcp_client import client  # the mcp SDK loads with the first server

        return await client.call_tool(self.session, self.server, self.remote_name, arguments)


@dataclass
class McpToolset:
    """The MCP tools of one run, and what went wrong connecting."""

    tools: dict[str, McpTool] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    failure: str | None = None  # a required server could not be used

    @classmethod
    @asynccontextmanager
    async def open(cls, uses: list[ServerUse]) -> AsyncIterator[McpToolset]:
        """Connects to every server in turn (in this task, which must also close them)."""
        toolset = cls()
        if not uses:
            yield toolset
            return
        from apps.mcp_client import client  # the mcp SDK loads with the first server

        async with AsyncExitStack() as sessions:
            for use in uses:
                try:
                    await toolset._connect(sessions, use)
                except client.McpUnavailable as exc:
                    toolset._unavailable(use, str(exc))
            yield toolset

    async def _connect(self, sessions: AsyncExitStack, use: ServerUse) -> None:
        """Adds the server's tools and keeps its session in ``sessions``; McpUnavailable says
        why not, naming the server."""
        from apps.mcp_client import client

        server = use.server
        if server is None:
            raise client.McpUnavailable(f"MCP server {use.name!r} is not registered")
        if not server.enabled:
            raise client.McpUnavailable(f"MCP server {use.name!r} is disabled in the registry")
        async with AsyncExitStack() as connection:  # closed here if listing fails
            session = await connection.enter_async_context(client.connect(server))
            try:
                with anyio.fail_after(server.timeout_s):
                    remote_tools = await client.list_tools(session)
            except TimeoutError:
                raise client.McpUnavailable(
                    f"MCP server {use.name!r} did not list its tools within {server.timeout_s} s"
                ) from None
            except client.McpUnavailable as exc:
                raise client.McpUnavailable(f"MCP server {use.name!r}: {exc}") from None
            await sessions.enter_async_context(connection.pop_all())
        for remote in remote_tools:
            tool = McpTool(session, server, remote)
            if not TOOL_NAME.match(tool.definition.name):
                self.warnings.append(
                    _warning(use.name, f"tool {remote.name!r} skipped: its name is not usable")
                )
                continue
            self.tools[tool.definition.name] = tool

    def _unavailable(self, use: ServerUse, reason: str) -> None:
        logger.warning("%s", reason)
        if use.required:
            self.failure = self.failure or f"{reason} (the agent requires it)"
        else:
            self.warnings.append(_warning(use.name, f"{reason}; the run goes on without its tools"))

    def definitions(self) -> list[ToolDefinition]:
        return [tool.definition for tool in self.tools.values()]

    def source(self, fallback: ToolSource) -> ToolSource:
        """Looks up this run's MCP tools first, then ``fallback`` (the tool registry)."""
        return _Chained(self.tools, fallback)


class _Chained:
    def __init__(self, tools: dict[str, McpTool], fallback: ToolSource) -> None:
        self.tools = tools
        self.fallback = fallback

    def get(self, name: str) -> BaseTool:
        tool = self.tools.get(name)
        return tool if tool is not None else self.fallback.get(name)


def _warning(server: str, message: str) -> dict[str, str]:
    return {"source": "mcp", "server": server, "message": message}
