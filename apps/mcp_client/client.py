"""Connecting to a registered MCP server with the official client; listing and calling its tools.

Resolved secrets (``${MCP_...}`` references in headers and env) go to the server and
nowhere else: they are removed from every message this module raises, returns or logs.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TextIO, cast

import anyio
import mcp_types as types
from asgiref.sync import async_to_sync
from django.core.exceptions import ValidationError
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from apps.mcp_client import guard, models, references
from apps.mcp_client.models import McpServer, McpTransport
from apps.runtime.tools import ToolResult

if TYPE_CHECKING:
    from mcp.client._transport import TransportStreams

logger = logging.getLogger(__name__)

# What a stdio server inherits from Conductor's environment, besides what the SDK
# passes itself (HOME, LOGNAME, PATH, SHELL, TERM, USER); its own env comes on top.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
REDACTED = "[redacted]"
STDERR_TAIL_CHARS = 1000
MAX_TOOL_PAGES = 100


class McpUnavailable(Exception):
    """Connecting to a server, or listing its tools, failed; no secret is in the message."""


@dataclass(frozen=True)
class RemoteTool:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class Probe:
    """A health check: the tools listed (``{"name", "description", "input_schema"}``) or why not."""

    ok: bool
    tools: list[dict[str, Any]]
    error: str = ""


# --- connecting -----------------------------------------------------------------------


@asynccontextmanager
async def connect(server: McpServer) -> AsyncIterator[ClientSession]:
    """An initialised session; McpUnavailable when connecting fails or outlasts timeout_s.

    Enter and exit it in one task (the transports keep task groups open); while it is
    open, other tasks of the same event loop may use the session. A failure of the
    block itself propagates unchanged; one of the connection's closing becomes
    McpUnavailable.
    """
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        secrets: frozenset[str] = frozenset()
        caller_failed = False
        try:
            secrets = secrets_of(server)
            async with _session(server, cast(TextIO, errlog)) as session:
                try:
                    yield session
                except BaseException:
                    caller_failed = True
                    raise
        except Exception as exc:
            if caller_failed:
                raise
            message = _redact(_failure(server, exc, _tail(errlog)), secrets)
            logger.info("MCP server %s is unavailable: %s", server.name, message)
            raise McpUnavailable(message) from None


def secrets_of(server: McpServer) -> frozenset[str]:
    """The values the server's ``${...}`` references resolve to now (to keep out of messages)."""
    return frozenset(references.resolved_secrets(server.headers, server.env).values())


@asynccontextmanager
async def _session(server: McpServer, errlog: TextIO) -> AsyncIterator[ClientSession]:
    deadline = anyio.current_time() + server.timeout_s
    async with (
        _streams(server, errlog, deadline) as (read, write),
        ClientSession(read, write) as session,
    ):
        # Only the handshake runs under the deadline's scope: a cancel scope around
        # the entering of the transports would outlive the task groups they open.
        with anyio.fail_after(_remaining(deadline)):
            await session.initialize()
        yield session


@asynccontextmanager
async def _streams(
    server: McpServer, errlog: TextIO, deadline: float
) -> AsyncIterator[TransportStreams]:
    """The transport's streams; references resolve here (MissingReference names a variable)."""
    if server.transport == McpTransport.STDIO:
        env = references.resolve_entries(server.env)
        async with stdio_client(_stdio_parameters(server, env), errlog=errlog) as streams:
            yield streams
        return
    if server.transport != McpTransport.HTTP:
        raise McpUnavailable(f"unknown transport {server.transport!r}")
    headers = references.resolve_entries(server.headers)
    with anyio.fail_after(_remaining(deadline)):
        http = await guard.pinned_client(server.url, headers, float(server.timeout_s))
    async with http, streamable_http_client(server.url, http_client=http) as streams:
        yield streams


def _stdio_parameters(server: McpServer, env: Mapping[str, str]) -> StdioServerParameters:
    """The child runs in Conductor's working directory, with a minimal environment."""
    executable = models.executable_for(server.command)
    if executable is None:
        raise McpUnavailable(
            f"{server.command!r} is not an installed executable listed in"
            " CONDUCTOR_MCP_STDIO_COMMANDS"
        )
    inherited = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return StdioServerParameters(
        command=executable, args=list(server.args), env={**inherited, **env}
    )


def _remaining(deadline: float) -> float:
    return max(deadline - anyio.current_time(), 0.0)


# --- failures -------------------------------------------------------------------------


def _failure(server: McpServer, exc: BaseException, stderr: str) -> str:
    reason = _reason(_innermost(exc), server.timeout_s)
    if stderr:
        reason += f"; the server's stderr ends with: {stderr}"
    return f"could not connect to MCP server {server.name!r}: {reason}"


def _innermost(exc: BaseException) -> BaseException:
    """The first leaf of nested exception groups (task groups wrap what their tasks raise)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _reason(exc: BaseException, timeout_s: int) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout_s} s"
    if isinstance(exc, McpUnavailable | guard.GuardRefused | references.MissingReference):
        return str(exc)
    if isinstance(exc, ValidationError):  # a reference the settings no longer allow
        return " ".join(exc.messages)
    if isinstance(exc, MCPError):
        return f"MCP error: {exc.message}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _tail(errlog: TextIO) -> str:
    try:
        errlog.seek(0)
        text = errlog.read()
    except (OSError, ValueError):
        return ""
    return text[-STDERR_TAIL_CHARS:].strip()


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


# --- tools ----------------------------------------------------------------------------


async def list_tools(session: ClientSession) -> list[RemoteTool]:
    """Every tool the server lists, following pagination cursors; McpUnavailable on failure."""
    tools: list[RemoteTool] = []
    cursor: str | None = None
    for _page in range(MAX_TOOL_PAGES):
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        try:
            page = await session.list_tools(params=params)
        except Exception as exc:
            raise McpUnavailable(f"listing tools failed: {_reason(_innermost(exc), 0)}") from None
        tools.extend(_remote_tool(tool) for tool in page.tools)
        if not page.next_cursor or page.next_cursor == cursor:
            return tools
        cursor = page.next_cursor
    raise McpUnavailable(f"listing tools failed: more than {MAX_TOOL_PAGES} pages")


def _remote_tool(tool: types.Tool) -> RemoteTool:
    return RemoteTool(
        name=tool.name, description=tool.description or "", input_schema=dict(tool.input_schema)
    )


async def call_tool(
    session: ClientSession, server: McpServer, name: str, arguments: dict[str, Any]
) -> ToolResult:
    """The tool's outcome, bounded by ``server.timeout_s``; a failure is a result, never raised.

    Error messages never carry the server's resolved secrets; results are the server's
    data and are left as they are.
    """
    outcome = await _attempt(session, server, name, arguments)
    if outcome.error:  # servers are known to echo a rejected credential
        return replace(outcome, error=_redact(outcome.error, secrets_of(server)))
    return outcome


async def _attempt(
    session: ClientSession, server: McpServer, name: str, arguments: dict[str, Any]
) -> ToolResult:
    started = time.monotonic()
    try:
        with anyio.fail_after(server.timeout_s):
            result = await session.call_tool(name, arguments)
    except TimeoutError:
        error = f"{server.name}: {name} timed out after {server.timeout_s} s"
        return ToolResult(success=False, error=error, duration_ms=_since(started))
    except Exception as exc:
        error = f"{server.name}: {name} failed: {_reason(_innermost(exc), server.timeout_s)}"
        return ToolResult(success=False, error=error, duration_ms=_since(started))
    return _tool_result(result, _since(started))


def _tool_result(result: types.CallToolResult, duration_ms: int) -> ToolResult:
    text = "\n".join(_content_text(block) for block in result.content)
    if result.is_error:
        error = text or "the tool reported an error without a message"
        return ToolResult(success=False, error=error, duration_ms=duration_ms)
    value = result.structured_content if result.structured_content is not None else text
    return ToolResult(success=True, result=value, duration_ms=duration_ms)


def _content_text(block: types.ContentBlock) -> str:
    """Text as it is; anything else as a short summary the model can read."""
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        return f"[{block.mime_type}, {_decoded_size(block.data)} bytes]"
    if isinstance(block, types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, types.TextResourceContents):
            return resource.text
        mime = resource.mime_type or "application/octet-stream"
        return f"[{mime} {resource.uri}, {_decoded_size(resource.blob)} bytes]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}]"
    return f"[{getattr(block, 'type', type(block).__name__)} content]"


def _decoded_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (binascii.Error, ValueError):
        return len(data)


def _since(started: float) -> int:
    return max(1, int((time.monotonic() - started) * 1000))


# --- health checks ------------------------------------------------------------------


async def probe(server: McpServer) -> Probe:
    """Connects, lists the tools and closes; each step bounded by timeout_s. Never raises."""
    try:
        async with connect(server) as session:
            tools = await _list_within(session, server.timeout_s)
    except Exception as exc:
        return Probe(ok=False, tools=[], error=_reason(_innermost(exc), server.timeout_s))
    return Probe(ok=True, tools=[asdict(tool) for tool in tools])


async def _list_within(session: ClientSession, timeout_s: int) -> list[RemoteTool]:
    try:
        with anyio.fail_after(timeout_s):
            return await list_tools(session)
    except TimeoutError:
        raise McpUnavailable(f"listing tools timed out after {timeout_s} s") from None


def probe_sync(server: McpServer) -> Probe:
    """:func:`probe` for synchronous callers (views, Celery tasks): not inside an event loop."""
    return async_to_sync(probe)(server)
