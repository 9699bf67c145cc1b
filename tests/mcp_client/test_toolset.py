"""McpToolset: which of a server's tools a run is offered, and what is closed when."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from asgiref.sync import async_to_sync

from apps.mcp_client import client
from apps.mcp_client.configs import ServerUse
from apps.mcp_client.runtime import McpToolset
from tests.factories import McpServerFactory

pytestmark = pytest.mark.django_db


class Connections:
    """Stands in for the client's connect/list_tools: records what was opened and closed."""

    def __init__(self, tools: list[str], *, listing_fails: bool = False) -> None:
        self.tools = tools
        self.listing_fails = listing_fails
        self.open: list[str] = []
        self.closed: list[str] = []

    @asynccontextmanager
    async def connect(self, server):
        self.open.append(server.name)
        try:
            yield server.name
        finally:
            self.closed.append(server.name)

    async def list_tools(self, session):
        if self.listing_fails:
            raise client.McpUnavailable("listing tools failed: boom")
        return [client.RemoteTool(name, f"{name} tool", {"type": "object"}) for name in self.tools]


@pytest.fixture
def connections(monkeypatch):
    def install(tools: list[str], **options: bool) -> Connections:
        fake = Connections(tools, **options)
        monkeypatch.setattr(client, "connect", fake.connect)
        monkeypatch.setattr(client, "list_tools", fake.list_tools)
        return fake

    return install


def test_tools_whose_full_name_function_calling_refuses_are_skipped_with_a_warning(
    connections,
):
    fake = connections(["search", "files.read", "x" * 70])
    use = ServerUse("docs", False, McpServerFactory(name="docs"))

    @async_to_sync
    async def check() -> None:
        async with McpToolset.open([use]) as toolset:
            assert list(toolset.tools) == ["docs__search"]
            assert [w["message"] for w in toolset.warnings] == [
                "tool 'files.read' skipped: its name is not usable",
                f"tool {'x' * 70!r} skipped: its name is not usable",
            ]
            assert fake.closed == []
        assert fake.closed == ["docs"]

    check()


def test_a_server_whose_listing_fails_is_closed_at_once_and_reported(connections):
    fake = connections(["search"], listing_fails=True)
    use = ServerUse("docs", True, McpServerFactory(name="docs"))

    @async_to_sync
    async def check() -> None:
        async with McpToolset.open([use]) as toolset:
            assert fake.closed == ["docs"]  # not kept open for the rest of the run
            assert toolset.tools == {}
            assert toolset.failure == (
                "MCP server 'docs': listing tools failed: boom (the agent requires it)"
            )

    check()
