"""``manage.py mcp_server --transport stdio`` driven by the official MCP client, as a subprocess."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from apps.runs.models import Run, RunSource
from tests.factories import UserFactory
from tests.mcp import scenarios
from tests.mcp.servers import ChildLog, Inbox, child_database_url, mcp_env, stdio_session
from tests.subprocesses import child_env, manage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stderr_log(tmp_path):
    """The child's stderr (a failing test's report shows it)."""
    with ChildLog(tmp_path / "mcp-stderr.log") as log:
        yield log


async def test_a_stdio_client_lists_and_calls_the_tools_with_a_clean_stdout(
    team, fake_llm, tmp_path, stderr_log
):
    inbox = Inbox()
    env = mcp_env(tmp_path / "data", fake_llm)

    async with stdio_session(env, "staff", stderr_log.file, inbox) as session:
        await scenarios.lists_the_13_tools_with_their_schemas(session)
        await scenarios.reads_agents_and_the_system(session, team)
        await scenarios.serves_resources_and_the_prompt(session, team)
        await scenarios.manages_templates_backups_and_config(session)

    # Logging, litellm and Django all ran; not one stdout line was anything but protocol.
    assert inbox.stray == []


async def test_a_stdio_client_runs_agents_as_the_user_it_was_started_for(
    team, fake_llm, tmp_path, stderr_log
):
    env = mcp_env(tmp_path / "data", fake_llm)

    async with stdio_session(env, "staff", stderr_log.file) as session:
        outcome = await scenarios.runs_agents(session, fake_llm)

    run = await sync_to_async(Run.objects.select_related("created_by").get)(
        pk=outcome["stateless"]["run_id"]
    )
    assert (run.source, run.created_by.username, run.cwd) == (
        RunSource.MCP,
        "staff",
        "/srv/project",
    )


@pytest.mark.parametrize(
    ("arguments", "env", "message"),
    [
        ([], {}, "pass --user NAME or set CONDUCTOR_MCP_USER"),
        ([], {"CONDUCTOR_MCP_USER": "nobody"}, "No user named 'nobody'"),
        (["--user", "retired"], {}, "The user 'retired' is inactive"),
    ],
)
def test_stdio_refuses_to_start_without_an_active_user(tmp_path, arguments, env, message):
    UserFactory(username="retired", is_active=False)
    environment = child_env(tmp_path, DATABASE_URL=child_database_url(), **env)

    finished = manage("mcp_server", "--transport", "stdio", *arguments, env=environment)

    assert finished.returncode != 0
    assert finished.stderr.startswith("CommandError: ")
    assert message in finished.stderr
    assert finished.stdout == ""
