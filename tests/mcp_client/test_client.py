"""Connecting to MCP servers with the official client, through the real fake server.

The fake runs over stdio (a child process) and over streamable HTTP (uvicorn on a
thread); the SSRF guard is exercised with loopback, which only an allow entry opens.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import mcp_types as types
import pytest
from mcp.client.session import ClientSession

from apps.mcp_client import guard
from apps.mcp_client.client import (
    McpUnavailable,
    Probe,
    RemoteTool,
    call_tool,
    connect,
    list_tools,
    probe,
    probe_sync,
)
from apps.mcp_client.models import McpServer, McpTransport
from apps.tools import web_fetch
from tests.fakes.mcp_server import FakeMcpHttp, serve_http
from tests.subprocesses import BASE_DIR

FAKE_ARGS = ["-m", "tests.fakes.mcp_server"]
FAKE_TOOLS = {"echo", "add", "fail", "sleep", "pid", "seen_headers"}
SECRET = "s3cret-token-value-42"


def http_server(url: str, **fields: Any) -> McpServer:
    return McpServer(
        name="remote", transport=McpTransport.HTTP, url=url, **{"timeout_s": 10, **fields}
    )


def stdio_server(args: list[str] = FAKE_ARGS, **fields: Any) -> McpServer:
    return McpServer(
        name="local",
        transport=McpTransport.STDIO,
        command=sys.executable,
        args=args,
        **{"env": {"PYTHONPATH": str(BASE_DIR)}, "timeout_s": 10, **fields},
    )


def python_child(code: str, **fields: Any) -> McpServer:
    """A stdio "server" that is a Python one-liner."""
    return stdio_server(["-c", code], **fields)


@pytest.fixture
def fake_http() -> Iterator[FakeMcpHttp]:
    with serve_http() as fake:
        yield fake


@pytest.fixture
def allowed_http(settings: Any, fake_http: FakeMcpHttp) -> FakeMcpHttp:
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = [f"127.0.0.1:{fake_http.port}"]
    return fake_http


@pytest.fixture
def python_allowed(settings: Any) -> None:
    settings.CONDUCTOR_MCP_STDIO_COMMANDS = [sys.executable]


@pytest.fixture(params=["stdio", "http"])
def fake(request: pytest.FixtureRequest, settings: Any) -> McpServer:
    """The fake over each transport, reachable."""
    if request.param == "stdio":
        settings.CONDUCTOR_MCP_STDIO_COMMANDS = [sys.executable]
        return stdio_server()
    return http_server(request.getfixturevalue("allowed_http").url)


@pytest.fixture
def silent_port(settings: Any) -> Iterator[int]:
    """An allow-listed port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        settings.CONDUCTOR_MCP_CLIENT_ALLOW = [f"127.0.0.1:{port}"]
        yield port


@pytest.fixture
def closed_port(settings: Any) -> int:
    """An allow-listed port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = [f"127.0.0.1:{port}"]
    return port


def fake_resolver(table: dict[str, list[list[str]]], calls: list[str]) -> Callable:
    """Answers each name with its next answer (the last one repeats)."""

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        answers = table[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return resolve


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def unavailable(server: McpServer) -> str:
    with pytest.raises(McpUnavailable) as caught:
        async with connect(server):
            pass
    return str(caught.value)


# --- the address guard, at registration (no DNS) -------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://mcp.example.com/mcp", "http://93.184.216.34:8080/mcp", "https://[2606:4700::1]/"],
)
def test_a_public_url_may_be_registered(url: str) -> None:
    assert guard.url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/mcp", "blocked address 127.0.0.1 (loopback)"),
        ("http://2130706433:8000/mcp", "blocked address 127.0.0.1 (loopback)"),
        ("http://0x7f.1/mcp", "blocked address 127.0.0.1 (loopback)"),
        ("http://[::1]/mcp", "blocked address ::1 (loopback)"),
        ("http://[::ffff:127.0.0.1]/mcp", "IPv4-mapped loopback 127.0.0.1"),
        ("http://10.1.2.3/mcp", "blocked address 10.1.2.3 (private)"),
        ("http://169.254.169.254/latest", "blocked address 169.254.169.254 (cloud metadata)"),
        ("http://localhost:8000/mcp", "blocked host localhost (localhost)"),
        ("http://metadata.google.internal/", "(cloud metadata)"),
    ],
)
def test_it_refuses_internal_addresses_in_any_spelling(url: str, reason: str) -> None:
    problem = guard.url_problem(url)

    assert problem is not None
    assert reason in problem
    assert "CONDUCTOR_MCP_CLIENT_ALLOW" in problem


def test_it_refuses_an_octal_encoded_loopback() -> None:
    assert "blocked address 127.0.0.1 (loopback)" in (guard.url_problem("http://0177.0.0.1/") or "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://mcp.example.com/", "scheme 'ftp' is not allowed"),
        ("https://user:pw@mcp.example.com/mcp", "credentials in the url"),
        ("http:///mcp", "no host"),
        ("mcp.example.com/mcp", "scheme '(none)' is not allowed"),
        ("", "url must be a non-empty string"),
        ("http://exa mple.com/", "invalid"),
    ],
)
def test_it_refuses_malformed_urls(url: str, message: str) -> None:
    assert message in (guard.url_problem(url) or "")


def test_an_allow_entry_opens_only_its_port(settings: Any) -> None:
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = ["127.0.0.1:8000"]

    assert guard.url_problem("http://127.0.0.1:8000/mcp") is None
    assert guard.url_problem("http://127.0.0.1:8001/mcp") is not None


def test_the_web_fetch_allow_list_does_not_open_mcp_servers(settings: Any) -> None:
    settings.CONDUCTOR_WEB_FETCH_ALLOW = ["127.0.0.1"]
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = []

    assert guard.url_problem("http://127.0.0.1:8000/mcp") is not None


async def test_a_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    table = {"intra.test": [["93.184.216.34", "10.0.0.5"]]}
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver(table, calls))

    message = await unavailable(http_server("http://intra.test/mcp"))

    assert "blocked address 10.0.0.5 (private) for host intra.test" in message
    assert "CONDUCTOR_MCP_CLIENT_ALLOW" in message
    assert calls == ["intra.test"]


async def test_an_unresolvable_name_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(f"no such host {host}")

    monkeypatch.setattr(web_fetch, "resolve", no_such_host)

    message = await unavailable(http_server("http://nowhere.test/mcp"))

    assert "could not resolve host nowhere.test" in message


# --- the address guard, at connect time ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "2130706433", "0x7f.1", "[::ffff:127.0.0.1]", "localhost"]
)
async def test_it_does_not_reach_an_unlisted_loopback_server(
    fake_http: FakeMcpHttp, host: str
) -> None:
    message = await unavailable(http_server(f"http://{host}:{fake_http.port}/mcp"))

    assert "blocked" in message
    assert fake_http.received_headers == []


async def test_it_refuses_the_cloud_metadata_address() -> None:
    message = await unavailable(http_server("http://169.254.169.254/mcp"))

    assert "blocked address 169.254.169.254 (cloud metadata)" in message


@pytest.mark.slow
async def test_it_connects_to_an_allow_listed_server(allowed_http: FakeMcpHttp) -> None:
    async with connect(http_server(allowed_http.url)) as session:
        tools = await list_tools(session)

    assert {tool.name for tool in tools} == FAKE_TOOLS


@pytest.mark.slow
async def test_it_connects_to_the_address_it_checked_with_the_name_as_host(
    settings: Any, fake_http: FakeMcpHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later DNS answer (rebinding to a private address) is never asked for or used."""
    calls: list[str] = []
    table = {"mcp.test": [["127.0.0.1"], ["10.0.0.9"]]}
    monkeypatch.setattr(web_fetch, "resolve", fake_resolver(table, calls))
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = [f"mcp.test:{fake_http.port}"]
    server = http_server(f"http://mcp.test:{fake_http.port}/mcp")

    async with connect(server) as session:
        first = await call_tool(session, server, "echo", {"text": "one"})
        seen = await call_tool(session, server, "seen_headers", {})

    assert first.success
    assert seen.result["host"] == f"mcp.test:{fake_http.port}"
    assert calls == ["mcp.test"]
    assert len(fake_http.received_headers) >= 3


async def test_the_pinned_client_reaches_no_other_origin(settings: Any) -> None:
    import httpx2

    settings.CONDUCTOR_MCP_CLIENT_ALLOW = ["127.0.0.1"]
    client = await guard.pinned_client("http://127.0.0.1:8000/mcp", {}, timeout_s=1)

    async with client:
        for url in ("http://127.0.0.1:8001/mcp", "https://127.0.0.1:8000/mcp"):
            with pytest.raises(httpx2.ConnectError, match="not the registered server's origin"):
                await client.post(url, json={})


# --- talking to the fake over both transports ------------------------------------------


@pytest.mark.slow
async def test_it_lists_the_servers_tools(fake: McpServer) -> None:
    async with connect(fake) as session:
        tools = {tool.name: tool for tool in await list_tools(session)}

    assert set(tools) == FAKE_TOOLS
    assert tools["add"].description == "The sum of two integers."
    assert tools["add"].input_schema["required"] == ["a", "b"]
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"


@pytest.mark.slow
async def test_it_calls_tools_and_returns_their_structured_results(fake: McpServer) -> None:
    async with connect(fake) as session:
        echoed = await call_tool(session, fake, "echo", {"text": "hello"})
        added = await call_tool(session, fake, "add", {"a": 2, "b": 40})

    assert (echoed.success, echoed.result, echoed.error) == (True, {"result": "hello"}, None)
    assert (added.success, added.result) == (True, {"result": 42})
    assert added.duration_ms >= 1


@pytest.mark.slow
async def test_a_tool_error_is_a_failed_result_with_its_message(fake: McpServer) -> None:
    async with connect(fake) as session:
        failed = await call_tool(session, fake, "fail", {"message": "the disk is full"})
        unknown = await call_tool(session, fake, "no_such_tool", {})
        invalid = await call_tool(session, fake, "add", {"a": "two"})

    assert not failed.success
    assert "the disk is full" in (failed.error or "")
    assert not unknown.success
    assert "no_such_tool" in (unknown.error or "")
    assert not invalid.success
    assert invalid.error


@pytest.mark.slow
async def test_a_slow_call_times_out_and_the_session_stays_usable(fake: McpServer) -> None:
    async with connect(fake) as session:
        fake.timeout_s = 1  # for the call; starting a child may take longer
        started = time.monotonic()
        slow = await call_tool(session, fake, "sleep", {"seconds": 5})
        elapsed = time.monotonic() - started
        after = await call_tool(session, fake, "echo", {"text": "still here"})

    assert not slow.success
    assert slow.error == f"{fake.name}: sleep timed out after 1 s"
    assert elapsed < 3
    assert after.result == {"result": "still here"}


@pytest.mark.slow
async def test_a_session_opened_in_one_task_serves_calls_from_others(fake: McpServer) -> None:
    """How a run uses it: the session lives in one task, tool calls come from others."""
    opened: asyncio.Future[ClientSession] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()

    async def hold() -> None:
        async with connect(fake) as session:
            opened.set_result(session)
            await release.wait()

    owner = asyncio.create_task(hold())
    waiting: list[asyncio.Future[Any]] = [opened, owner]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    if owner.done():
        owner.result()  # connecting failed: show why
    session = opened.result()
    fake.timeout_s = 1
    calls = [call_tool(session, fake, "echo", {"text": str(n)}) for n in range(3)]
    echoed = await asyncio.gather(*calls)
    slow = await asyncio.create_task(call_tool(session, fake, "sleep", {"seconds": 5}))
    after = await asyncio.create_task(call_tool(session, fake, "add", {"a": 1, "b": 1}))
    release.set()
    await asyncio.wait_for(owner, timeout=10)

    assert [result.result for result in echoed] == [{"result": str(n)} for n in range(3)]
    assert "timed out after 1 s" in (slow.error or "")
    assert after.result == {"result": 2}


@pytest.mark.slow
async def test_a_probe_lists_the_tools_as_dicts(fake: McpServer) -> None:
    result = await probe(fake)

    assert result.ok, result.error
    assert result.error == ""
    assert {tool["name"] for tool in result.tools} == FAKE_TOOLS
    echo = next(tool for tool in result.tools if tool["name"] == "echo")
    assert set(echo) == {"name", "description", "input_schema"}
    assert echo["description"] == "Returns the text it is given."


@pytest.mark.slow
@pytest.mark.django_db
def test_a_sync_caller_probes_a_registered_server(
    python_allowed: None, allowed_http: FakeMcpHttp
) -> None:
    servers = [
        McpServer.objects.create(
            name="local",
            transport=McpTransport.STDIO,
            command=sys.executable,
            args=FAKE_ARGS,
            env={"PYTHONPATH": str(BASE_DIR)},
        ),
        McpServer.objects.create(name="remote", transport=McpTransport.HTTP, url=allowed_http.url),
    ]

    results = [probe_sync(server) for server in servers]

    assert [result.ok for result in results] == [True, True]
    assert all({t["name"] for t in result.tools} == FAKE_TOOLS for result in results)


# --- connection failures ---------------------------------------------------------------


@pytest.mark.slow
async def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    started = time.monotonic()

    message = await unavailable(http_server(f"http://127.0.0.1:{silent_port}/mcp", timeout_s=1))

    assert message == "could not connect to MCP server 'remote': timed out after 1 s"
    assert time.monotonic() - started < 5


@pytest.mark.slow
async def test_a_stdio_server_that_never_answers_times_out(python_allowed: None) -> None:
    server = python_child("import sys; sys.stdin.read()", timeout_s=1)

    message = await unavailable(server)

    assert message == "could not connect to MCP server 'local': timed out after 1 s"


async def test_a_closed_port_is_unavailable(closed_port: int) -> None:
    message = await unavailable(http_server(f"http://127.0.0.1:{closed_port}/mcp", timeout_s=5))

    assert message.startswith("could not connect to MCP server 'remote': ")
    assert "timed out" not in message


async def test_a_probe_of_an_unreachable_server_says_why(closed_port: int) -> None:
    result = await probe(http_server(f"http://127.0.0.1:{closed_port}/mcp", timeout_s=5))

    assert result == Probe(ok=False, tools=[], error=result.error)
    assert "could not connect to MCP server 'remote'" in result.error


def test_a_sync_probe_of_a_refused_url_says_why() -> None:
    result = probe_sync(http_server("http://127.0.0.1:9/mcp"))

    assert not result.ok
    assert "blocked address 127.0.0.1 (loopback)" in result.error


async def test_a_missing_reference_is_unavailable_and_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MCP_TEST_TOKEN", raising=False)
    server = http_server(
        "https://mcp.example.com/mcp", headers={"Authorization": "Bearer ${MCP_TEST_TOKEN}"}
    )

    message = await unavailable(server)

    assert message == (
        "could not connect to MCP server 'remote': environment variable MCP_TEST_TOKEN is not set"
    )


async def test_a_reference_outside_the_allowed_prefixes_is_not_resolved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DJANGO_SECRET_KEY", SECRET)
    server = http_server("https://mcp.example.com/mcp", headers={"X-Key": "${DJANGO_SECRET_KEY}"})

    message = await unavailable(server)

    assert "${DJANGO_SECRET_KEY} cannot be referenced" in message
    assert SECRET not in message


@pytest.mark.slow
async def test_a_secret_header_is_resolved_from_the_environment(
    allowed_http: FakeMcpHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", SECRET)
    server = http_server(
        allowed_http.url,
        headers={"Authorization": "Bearer ${MCP_TEST_TOKEN}", "X-Team": "conductor"},
    )

    async with connect(server) as session:
        seen = await call_tool(session, server, "seen_headers", {})

    assert seen.result["authorization"] == f"Bearer {SECRET}"
    assert seen.result["x-team"] == "conductor"
    assert all(h["authorization"] == f"Bearer {SECRET}" for h in allowed_http.received_headers)


async def test_a_secret_never_appears_in_failures_or_logs(
    closed_port: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("MCP_TEST_TOKEN", SECRET)
    server = http_server(
        f"http://127.0.0.1:{closed_port}/mcp",
        headers={"Authorization": "Bearer ${MCP_TEST_TOKEN}"},
        timeout_s=5,
    )

    message = await unavailable(server)
    result = await probe(server)

    assert "could not connect" in message
    assert not result.ok
    assert SECRET not in message + result.error
    assert SECRET not in caplog.text
    assert any("is unavailable" in record.getMessage() for record in caplog.records)


@pytest.mark.slow
async def test_a_tool_error_echoing_the_secret_is_redacted(
    allowed_http: FakeMcpHttp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MCP_TEST_TOKEN", SECRET)
    server = http_server(allowed_http.url, headers={"X-Api-Key": "${MCP_TEST_TOKEN}"})

    async with connect(server) as session:
        failed = await call_tool(session, server, "fail", {"message": f"bad key {SECRET}"})

    assert not failed.success
    assert "bad key [redacted]" in (failed.error or "")
    assert SECRET not in (failed.error or "")


# --- stdio -----------------------------------------------------------------------------


async def test_a_command_not_on_the_allow_list_is_refused(settings: Any) -> None:
    settings.CONDUCTOR_MCP_STDIO_COMMANDS = ["/usr/bin/node"]

    message = await unavailable(stdio_server())

    assert "not an installed executable listed in CONDUCTOR_MCP_STDIO_COMMANDS" in message


@pytest.mark.slow
async def test_the_child_is_gone_after_the_session_closes(python_allowed: None) -> None:
    server = stdio_server()
    async with connect(server) as session:
        pid = (await call_tool(session, server, "pid", {})).result["result"]
        assert is_alive(pid)

    assert pid != os.getpid()
    assert not is_alive(pid)


@pytest.mark.slow
async def test_a_child_that_dies_fails_calls_without_raising(python_allowed: None) -> None:
    server = stdio_server()
    async with connect(server) as session:
        pid = (await call_tool(session, server, "pid", {})).result["result"]
        os.kill(pid, signal.SIGKILL)
        result = await call_tool(session, server, "echo", {"text": "anyone?"})

    assert not result.success
    assert (result.error or "").startswith("local: echo failed: ")


@pytest.mark.slow
async def test_a_child_that_exits_at_once_reports_its_stderr(python_allowed: None) -> None:
    server = python_child("import sys; sys.exit('cannot start: no config file')")

    message = await unavailable(server)

    assert message.startswith("could not connect to MCP server 'local': ")
    assert message.endswith("the server's stderr ends with: cannot start: no config file")


@pytest.mark.slow
async def test_the_child_gets_its_env_and_not_conductors(
    python_allowed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its stderr, shown in the failure, says what it saw; the secret is redacted."""
    monkeypatch.setenv("MCP_TEST_TOKEN", SECRET)
    monkeypatch.setenv("CONDUCTOR_LEAK_CANARY", "conductor-only")
    code = (
        "import os, sys; sys.exit('token=%s canary=%s' % "
        "(os.environ.get('API_TOKEN'), os.environ.get('CONDUCTOR_LEAK_CANARY')))"
    )
    server = python_child(code, env={"API_TOKEN": "${MCP_TEST_TOKEN}"})

    message = await unavailable(server)

    assert "token=[redacted] canary=None" in message
    assert SECRET not in message


# --- results and listings the fake does not produce -------------------------------------


class ScriptedSession:
    """Answers list_tools and call_tool from a script, as a server would."""

    def __init__(
        self,
        pages: dict[str | None, types.ListToolsResult] | None = None,
        result: types.CallToolResult | None = None,
    ) -> None:
        self.pages = pages or {}
        self.result = result
        self.cursors: list[str | None] = []

    async def list_tools(
        self, *, params: types.PaginatedRequestParams | None = None
    ) -> types.ListToolsResult:
        cursor = params.cursor if params else None
        self.cursors.append(cursor)
        return self.pages[cursor]

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        assert self.result is not None
        return self.result


def tool(name: str) -> types.Tool:
    return types.Tool(name=name, input_schema={"type": "object"})


async def test_it_follows_pagination_cursors() -> None:
    pages = {
        None: types.ListToolsResult(tools=[tool("a"), tool("b")], next_cursor="p2"),
        "p2": types.ListToolsResult(tools=[tool("c")], next_cursor="p3"),
        "p3": types.ListToolsResult(tools=[tool("d")]),
    }
    session = ScriptedSession(pages)

    tools = await list_tools(cast(ClientSession, session))

    assert [t.name for t in tools] == ["a", "b", "c", "d"]
    assert tools[0] == RemoteTool(name="a", description="", input_schema={"type": "object"})
    assert session.cursors == [None, "p2", "p3"]


async def test_a_cursor_that_repeats_ends_the_listing() -> None:
    pages = {
        None: types.ListToolsResult(tools=[tool("a")], next_cursor="again"),
        "again": types.ListToolsResult(tools=[tool("b")], next_cursor="again"),
    }

    tools = await list_tools(cast(ClientSession, ScriptedSession(pages)))

    assert [t.name for t in tools] == ["a", "b"]


async def test_non_text_content_is_summarised() -> None:
    content: list[types.ContentBlock] = [
        types.TextContent(text="Here is the chart:"),
        types.ImageContent(data="iVBORw0KGgo=", mime_type="image/png"),
        types.AudioContent(data="AAAA", mime_type="audio/wav"),
        types.EmbeddedResource(
            resource=types.TextResourceContents(uri="file:///notes.txt", text="the notes")
        ),
        types.ResourceLink(name="report", uri="file:///report.pdf"),
    ]
    session = ScriptedSession(result=types.CallToolResult(content=content))

    result = await call_tool(cast(ClientSession, session), stdio_server(), "chart", {})

    assert result.success
    assert result.result == (
        "Here is the chart:\n[image/png, 8 bytes]\n[audio/wav, 3 bytes]\nthe notes\n"
        "[resource link file:///report.pdf]"
    )


async def test_an_error_result_without_text_still_fails() -> None:
    session = ScriptedSession(result=types.CallToolResult(content=[], is_error=True))

    result = await call_tool(cast(ClientSession, session), stdio_server(), "broken", {})

    assert not result.success
    assert result.error == "the tool reported an error without a message"
