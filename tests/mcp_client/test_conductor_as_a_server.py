"""Conductor's own MCP server, registered as an external server of one of its agents."""

from __future__ import annotations

import json
import os
import sys

import pytest

from apps.mcp_client.models import McpServer, McpTransport
from apps.tools.models import ToolExecution
from tests.factories import AgentFactory
from tests.fakes import llm_server as llm
from tests.mcp.servers import child_database_url
from tests.runs.conftest import NATIVE_MODEL
from tests.runs.helpers import finished, start
from tests.subprocesses import MANAGE

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_celery"),
    pytest.mark.slow,
]


def test_an_agent_lists_conductors_agents_through_conductors_mcp_server(
    viewer_client, fake_llm, staff, settings, tmp_path
):
    settings.CONDUCTOR_MCP_STDIO_COMMANDS = [sys.executable]
    env = {
        "DATABASE_URL": child_database_url(),
        "CONDUCTOR_DATA_DIR": str(tmp_path),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    McpServer.objects.create(
        name="conductor",
        transport=McpTransport.STDIO,
        command=sys.executable,
        args=[MANAGE, "mcp_server", "--transport", "stdio", "--user", staff.username],
        env=env,
        requires_approval=False,
        timeout_s=60,
    )
    AgentFactory(
        slug="translator", name="Translator", description="Translates text.", model=NATIVE_MODEL
    )
    AgentFactory(
        slug="delegator",
        model=NATIVE_MODEL,
        tools=[],
        mcp_configs={"servers": {"conductor": {"required": True}}},
    )
    fake_llm.script(
        llm.tool_call("conductor__list_available_agents", {}), llm.text("There is a translator.")
    )

    run = finished(viewer_client, start(viewer_client, "delegator")["id"])

    assert run["status"] == "succeeded", run
    offered = {tool["function"]["name"] for tool in fake_llm.requests[0]["tools"]}
    assert {"conductor__list_available_agents", "conductor__get_agent_info"} <= offered
    message = fake_llm.requests[1]["messages"][-1]
    observation = json.loads(message["content"])
    assert observation["success"] is True, observation
    listed = json.dumps(observation["result"])
    assert "translator" in listed
    assert "Translates text." in listed
    audit = ToolExecution.objects.get(run_id=run["id"])
    assert (audit.tool, audit.success) == ("conductor__list_available_agents", True)
