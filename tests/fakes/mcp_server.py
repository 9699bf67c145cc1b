"""A small MCP server for the tests of Conductor's MCP client, over stdio or streamable HTTP.

- ``python -m tests.fakes.mcp_server`` serves stdio: stdout carries the protocol only.
- ``serve_http()`` serves streamable HTTP on 127.0.0.1 from a background thread and
  records the headers of every request it receives.

Tools: ``echo``, ``add``, ``fail`` (an error result), ``sleep``, ``pid`` (the serving
process) and ``seen_headers`` (the headers of the current HTTP request; empty on stdio).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ENDPOINT", "FakeMcpHttp", "build_server", "serve_http"]

ENDPOINT = "/mcp"
START_TIMEOUT = 10.0
# Sessions whose client went away without closing keep an SSE stream open; do not
# wait for them longer than this when the test is over.
GRACEFUL_SHUTDOWN_SECONDS = 1


def build_server() -> MCPServer[Any]:
    """A new server: a streamable HTTP app can be started only once per server."""
    server: MCPServer[Any] = MCPServer("conductor-fake", log_level="WARNING")

    @server.tool()
    def echo(text: str) -> str:
        """Returns the text it is given."""
        return text

    @server.tool()
    def add(a: int, b: int) -> int:
        """The sum of two integers."""
        return a + b

    @server.tool()
    def fail(message: str) -> str:
        """Always fails, with the given message."""
        raise ToolError(message)

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Waits, then says how long."""
        await anyio.sleep(seconds)
        return f"slept {seconds:g} s"

    @server.tool()
    def pid() -> int:
        """The id of the process serving this session."""
        return os.getpid()

    @server.tool()
    def seen_headers(ctx: Context[Any, Any]) -> dict[str, str]:
        """The headers of this HTTP request, names lowercased (empty over stdio)."""
        return {name.lower(): value for name, value in (ctx.headers or {}).items()}

    return server


# --- streamable HTTP ---------------------------------------------------------------


@dataclass
class FakeMcpHttp:
    """A running server: its endpoint and what it has received."""

    url: str
    port: int
    received_headers: list[dict[str, str]] = field(default_factory=list)


class _RecordHeaders:
    """ASGI middleware: appends every HTTP request's headers, names lowercased."""

    def __init__(self, app: ASGIApp, sink: list[dict[str, str]]) -> None:
        self.app = app
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.sink.append(
                {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            )
        await self.app(scope, receive, send)


@contextmanager
def serve_http() -> Iterator[FakeMcpHttp]:
    """Serves a fresh fake on a free loopback port until the block ends.

    Host-header checking is off, so a test may reach it through a name pinned to
    127.0.0.1 and see (``seen_headers``) that the Host header kept that name.
    """
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    fake = FakeMcpHttp(url=f"http://127.0.0.1:{port}{ENDPOINT}", port=port)
    app = build_server().streamable_http_app(
        streamable_http_path=ENDPOINT,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    config = uvicorn.Config(
        _RecordHeaders(app, fake.received_headers),
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        _wait_until_started(server, thread)
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=GRACEFUL_SHUTDOWN_SECONDS + 5)
        listener.close()


def _wait_until_started(server: Any, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake MCP server did not start")
        time.sleep(0.01)


if __name__ == "__main__":
    build_server().run("stdio")
