from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from apps.mcp_client.models import McpServer, McpTransport
from tests.fakes.mcp_server import FakeMcpHttp, serve_http
from tests.runs.conftest import eager_celery  # noqa: F401  (a fixture)
from tests.subprocesses import BASE_DIR

FAKE_ARGS = ["-m", "tests.fakes.mcp_server"]


@pytest.fixture
def stdio_allowed(settings):
    settings.CONDUCTOR_MCP_STDIO_COMMANDS = [sys.executable]


@pytest.fixture
def stdio_fake(db, stdio_allowed) -> McpServer:
    """The fake MCP server over stdio, registered as "fake", calls not waiting for approval."""
    return McpServer.objects.create(
        name="fake",
        transport=McpTransport.STDIO,
        command=sys.executable,
        args=FAKE_ARGS,
        env={"PYTHONPATH": str(BASE_DIR)},
        requires_approval=False,
        timeout_s=20,
    )


@pytest.fixture
def http_fake_server() -> Iterator[FakeMcpHttp]:
    with serve_http() as fake:
        yield fake


@pytest.fixture
def http_fake(db, settings, http_fake_server) -> McpServer:
    """The fake over streamable HTTP on loopback, allow-listed, registered as "remote"."""
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = [f"127.0.0.1:{http_fake_server.port}"]
    return McpServer.objects.create(
        name="remote",
        transport=McpTransport.HTTP,
        url=http_fake_server.url,
        requires_approval=False,
        timeout_s=10,
    )
