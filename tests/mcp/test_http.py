"""``manage.py mcp_server --transport http``: streamable HTTP at /mcp behind DRF bearer tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio
import httpx
import pytest
from asgiref.sync import sync_to_async
from mcp.shared.exceptions import MCPError

from apps.agents.models import Agent
from apps.personas.models import Persona
from apps.runs.models import Run, RunSource, RunStatus
from tests.archive.conftest import wipe
from tests.factories import UserFactory
from tests.fakes import llm_server as llm
from tests.mcp import scenarios
from tests.mcp.conftest import token_for
from tests.mcp.scenarios import structured, tool_error
from tests.mcp.servers import (
    MCP_HEADERS,
    http_session,
    initialize_request,
    mcp_env,
    wait_until_listening,
)
from tests.services import free_port
from tests.subprocesses import Served, manage, spawn_manage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def mcp_http(django_db_setup, tmp_path_factory, shared_fake_llm) -> Iterator[Served]:
    """One HTTP MCP server for the module, on the test database, with a second (migrated)
    database alias "copy" for migrate_storage."""
    data = tmp_path_factory.mktemp("mcp-http")
    env = mcp_env(
        data, shared_fake_llm, CONDUCTOR_EXTRA_DATABASES=f"copy=sqlite:///{data / 'copy.db'}"
    )
    migrated = manage("migrate", "--database", "copy", "--noinput", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    command = ("mcp_server", "--transport", "http", "--port", str(port))
    served = Served(spawn_manage(*command, env=env), port)
    try:
        wait_until_listening(served, "/mcp")
        yield served
    finally:
        served.shut_down()


@pytest.fixture
def url(mcp_http: Served) -> str:
    return f"{mcp_http.base}/mcp"


def post_initialize(url: str, **headers: str) -> httpx.Response:
    return httpx.post(url, json=initialize_request(), headers={**MCP_HEADERS, **headers})


# --- Transport security ------------------------------------------------------------------


def test_a_request_without_a_token_is_answered_401(url):
    response = post_initialize(url)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Token {key}", "Bearer {key}x"])
def test_a_request_with_a_bad_token_is_answered_401(url, viewer, header):
    key = token_for(viewer)

    response = post_initialize(url, Authorization=header.format(key=key))

    assert response.status_code == 401


def test_the_token_of_an_inactive_user_is_answered_401(url):
    retired = UserFactory(username="retired", is_active=False)

    response = post_initialize(url, Authorization=f"Bearer {token_for(retired)}")

    assert response.status_code == 401


def test_a_host_header_that_is_not_allowed_is_refused(url, viewer):
    authorization = f"Bearer {token_for(viewer)}"

    refused = post_initialize(url, Authorization=authorization, Host="attacker.example.com")
    served = post_initialize(url, Authorization=authorization)

    assert refused.status_code == 421
    assert served.status_code == 200


# --- Tools ----------------------------------------------------------------------------------


async def test_a_client_lists_the_tools_and_calls_each_one_as_its_tokens_user(
    url, team, staff, fake_llm
):
    token = await sync_to_async(token_for)(staff)

    async with http_session(url, token) as session:
        await scenarios.lists_the_13_tools_with_their_schemas(session)
        await scenarios.reads_agents_and_the_system(session, team)
        await scenarios.runs_agents(session, fake_llm)
        await scenarios.manages_templates_backups_and_config(session)
        await scenarios.serves_resources_and_the_prompt(session, team)
        copied = structured(
            await session.call_tool(
                "migrate_storage", {"from_alias": "default", "to_alias": "copy"}
            )
        )

    agents = await sync_to_async(Agent.objects.count)()
    assert (copied["from_alias"], copied["to_alias"]) == ("default", "copy")
    assert copied["created"]["agents"] == agents > 1


async def test_a_backup_wiped_and_restored_keeps_every_persona_version(url, team, staff):
    token = await sync_to_async(token_for)(staff)
    history_before = await sync_to_async(persona_history_counts)()

    async with http_session(url, token) as session:
        backup = structured(await session.call_tool("backup_agents", {}))
        await sync_to_async(wipe)()
        assert await sync_to_async(persona_history_counts)() == {}
        restored = structured(await session.call_tool("restore_agents", {"path": backup["path"]}))

    assert await sync_to_async(persona_history_counts)() == history_before == {"Helper voice": 3}
    assert restored["created"] == {"agents": 1, "personas": 1, "screenplays": 1}


def persona_history_counts() -> dict[str, int]:
    return {persona.name: persona.history.count() for persona in Persona.objects.all()}


async def test_a_user_who_is_not_staff_may_not_restore_agents(url, team, staff, viewer):
    staff_token, viewer_token = await sync_to_async(lambda: (token_for(staff), token_for(viewer)))()
    async with http_session(url, staff_token) as session:
        backup = structured(await session.call_tool("backup_agents", {}))

    async with http_session(url, viewer_token) as session:
        refused = await session.call_tool("restore_agents", {"path": backup["path"]})
        # Refused the same way whether the file exists or not: nothing leaks about backups.
        probe = await session.call_tool("restore_agents", {"path": "no-such-backup.json"})
        no_backup = await session.call_tool("backup_agents", {})
        no_environment = await session.call_tool("set_environment", {"environment": "production"})

    denied = "Error executing tool restore_agents: Permission denied: Only staff may restore"
    assert tool_error(refused) == tool_error(probe) == f"{denied} an archive."
    assert "Only staff may write a backup." in tool_error(no_backup)
    assert "Only staff may change the runtime configuration." in tool_error(no_environment)


async def test_bad_arguments_are_clean_tool_errors(url, team, viewer, fake_llm):
    token = await sync_to_async(token_for)(viewer)

    async with http_session(url, token) as session:
        unknown = await session.call_tool(
            "execute_agent_stateless", {"agent_id": "nobody_here", "input_text": "Hi"}
        )
        not_yours = await session.call_tool(
            "execute_agent_contextual",
            {"agent_id": "helper", "input_text": "Hi", "conversation_id": 999_999},
        )
        relative = await session.call_tool(
            "execute_agent_stateless", {"agent_id": "helper", "input_text": "Hi", "cwd": "tmp"}
        )
        invalid = await session.call_tool("get_agent_info", {})
        with pytest.raises(MCPError, match="No screenplay 999999"):
            await session.read_resource("screenplay://999999")

    assert tool_error(unknown) == (
        "Error executing tool execute_agent_stateless: "
        "No agent with id 'nobody_here': list_available_agents names them all."
    )
    assert "No conversation 999999 of yours" in tool_error(not_yours)
    assert "cwd must be an absolute path. [invalid_run_request]" in tool_error(relative)
    assert "agent_id" in tool_error(invalid)
    assert fake_llm.requests == []


async def test_cancelling_a_call_cancels_the_run_it_started(url, team, viewer, fake_llm):
    token = await sync_to_async(token_for)(viewer)
    # Slow, but not so slow that the abandoned call delays the server's exit for long.
    fake_llm.script(llm.slow(5, llm.text("Too late.")))

    async with http_session(url, token) as session:
        with anyio.move_on_after(2):
            await session.call_tool(
                "execute_agent_stateless", {"agent_id": "helper", "input_text": "Take your time."}
            )

    run = await finished_run(agent__slug="helper")
    assert (run.status, run.source) == (RunStatus.CANCELLED, RunSource.MCP)


async def finished_run(**filters: object) -> Run:
    for _ in range(100):
        run = await sync_to_async(Run.objects.filter(**filters).first)()
        if run is not None and run.is_finished:
            return run
        await asyncio.sleep(0.2)
    pytest.fail(f"no finished run: {run}")


def test_a_session_cannot_be_continued_with_another_users_token(url, viewer, other_user):
    viewer_token, other_token = token_for(viewer), token_for(other_user)
    opened = post_initialize(url, Authorization=f"Bearer {viewer_token}")
    session_id = opened.headers["mcp-session-id"]

    hijack = httpx.post(
        url,
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        headers={
            **MCP_HEADERS,
            "Authorization": f"Bearer {other_token}",
            "Mcp-Session-Id": session_id,
        },
    )

    assert hijack.status_code == 404
