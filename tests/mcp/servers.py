"""MCP servers in child processes, on the test database, and the official client's sessions.

A child reaches the data a test wrote only once it is committed: tests that talk to a
child are transactional (``django_db(transaction=True)``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

import httpx
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.fakes.llm_server import FakeLLMServer
from tests.subprocesses import (
    BASE_DIR,
    MANAGE,
    START_TIMEOUT,
    Served,
    child_env,
    fake_llm_env,
)

# The cwd of MCP runs in the children (runs need one; see CONDUCTOR_MCP_DEFAULT_CWD).
DEFAULT_CWD = "/srv/project"
# How long a client waits for one answer: a run against the fake LLM takes seconds.
READ_TIMEOUT = 60.0


def child_database_url() -> str:
    """The URL of the database this test session runs on (pytest-django's test database)."""
    from django.db import connection

    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    credentials = quote(config["USER"] or "")
    if config.get("PASSWORD"):
        credentials += ":" + quote(config["PASSWORD"])
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgresql://{credentials}@{host}:{port}/{config['NAME']}"


def mcp_env(data_dir: Path, fake_llm: FakeLLMServer, **overrides: str) -> dict[str, str]:
    """A child's environment: the test database, Redis when the suite has it, the fake LLM."""
    extra = {"REDIS_URL": os.environ["REDIS_URL"]} if os.environ.get("REDIS_URL") else {}
    return child_env(
        data_dir,
        DATABASE_URL=child_database_url(),
        **fake_llm_env(fake_llm.base_url),
        CONDUCTOR_MCP_DEFAULT_CWD=DEFAULT_CWD,
        **extra,
        **overrides,
    )


# --- stdio -----------------------------------------------------------------------------


class ChildLog:
    """A file a child writes its stderr to; a failing test's report shows it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: TextIO = path.open("w")

    def __enter__(self) -> ChildLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.file.close()

    @property
    def output(self) -> str:
        self.file.flush()
        return self.path.read_text()


class Inbox:
    """What the client received besides answers: stdout lines that were not protocol."""

    def __init__(self) -> None:
        self.stray: list[Exception] = []

    async def __call__(self, message: Any) -> None:
        if isinstance(message, Exception):
            self.stray.append(message)


@asynccontextmanager
async def stdio_session(
    env: dict[str, str], username: str, errlog: TextIO, inbox: Inbox | None = None
) -> AsyncIterator[ClientSession]:
    """``manage.py mcp_server --transport stdio --user <username>``, as an MCP client starts it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=[MANAGE, "mcp_server", "--transport", "stdio", "--user", username],
        env=env,
        cwd=str(BASE_DIR),
    )
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(
            read, write, read_timeout_seconds=READ_TIMEOUT, message_handler=inbox
        ) as session,
    ):
        await session.initialize()
        yield session


# --- streamable HTTP -------------------------------------------------------------------


@asynccontextmanager
async def http_session(url: str, token: str) -> AsyncIterator[ClientSession]:
    """A client session with ``Authorization: Bearer <token>`` on every request."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        create_mcp_http_client(headers=headers) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write, read_timeout_seconds=READ_TIMEOUT) as session,
    ):
        await session.initialize()
        yield session


def wait_until_listening(served: Served, path: str) -> None:
    """Until the endpoint answers (401: it is up and wants a token)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"the server exited with {served.process.returncode}:\n{served.output}")
        try:
            if httpx.post(f"{served.base}{path}", json={}, timeout=5).status_code == 401:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{path} never answered:\n{served.output}")


def initialize_request() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "conductor-tests", "version": "1"},
        },
    }


MCP_HEADERS = {"Accept": "application/json, text/event-stream"}
