"""Runs use the tools of their agents' MCP servers, through the official client."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

import pytest

from apps.mcp_client.models import McpServer, McpTransport
from apps.runs.models import Approval, Run, RunEvent, RunStatus
from apps.runs.tasks import execute_run
from apps.tools.models import ToolExecution
from conductor_site.celery import app as celery_app
from tests.factories import AgentFactory, AgentInstanceFactory, ConversationFactory
from tests.fakes import llm_server as llm
from tests.runs.conftest import NATIVE_MODEL, decide
from tests.runs.helpers import event_names, finished, start, without_deltas
from tests.services import free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_celery"),
    pytest.mark.slow,
]


def agent_using(*servers: str, slug: str = "mcp_user", required: bool = False):
    return AgentFactory(
        slug=slug,
        model=NATIVE_MODEL,
        tools=[],
        mcp_configs={"servers": {name: {"required": required} for name in servers}},
    )


def offered_tools(request: dict) -> dict[str, dict]:
    return {tool["function"]["name"]: tool["function"] for tool in request.get("tools") or []}


def observation(request: dict) -> dict:
    message = request["messages"][-1]
    assert message["role"] == "tool", message
    return json.loads(message["content"])


def test_a_run_calls_a_stdio_servers_tool_and_audits_it(viewer_client, fake_llm, stdio_fake):
    agent_using("fake")
    fake_llm.script(llm.tool_call("fake__add", {"a": 2, "b": 3}), llm.text("It is 5."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded", run
    assert run["result"] == "It is 5."
    tools = offered_tools(fake_llm.requests[0])
    assert {"fake__echo", "fake__add", "fake__fail", "fake__sleep", "fake__pid"} <= set(tools)
    assert tools["fake__add"]["parameters"]["properties"].keys() == {"a", "b"}
    result = observation(fake_llm.requests[1])
    assert result["success"] is True
    assert "5" in json.dumps(result["result"])
    (audit,) = ToolExecution.objects.filter(run_id=run["id"])
    assert (audit.tool, audit.arguments, audit.success) == ("fake__add", {"a": 2, "b": 3}, True)
    assert "5" in audit.output_summary
    names = without_deltas(event_names(run["id"]))
    assert names[names.index("tool.called") : names.index("tool.called") + 2] == [
        "tool.called",
        "tool.result",
    ]


def test_a_run_calls_a_streamable_http_servers_tool(viewer_client, fake_llm, http_fake):
    agent_using("remote")
    fake_llm.script(llm.tool_call("remote__echo", {"text": "over HTTP"}), llm.text("Done."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded", run
    result = observation(fake_llm.requests[1])
    # The fake's tools declare an output schema: the structured content is the result.
    assert result == {"success": True, "result": {"result": "over HTTP"}, "error": None}
    assert ToolExecution.objects.get(run_id=run["id"]).tool == "remote__echo"


def test_an_error_result_is_the_observation_and_the_run_goes_on(
    viewer_client, fake_llm, stdio_fake
):
    agent_using("fake")
    fake_llm.script(llm.tool_call("fake__fail", {"message": "disk full"}), llm.text("Noted."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded"
    result = observation(fake_llm.requests[1])
    assert result["success"] is False
    assert "disk full" in result["error"]
    assert ToolExecution.objects.get(run_id=run["id"]).success is False


def test_a_call_past_the_servers_timeout_fails_as_an_observation(
    viewer_client, fake_llm, http_fake
):
    McpServer.objects.filter(pk=http_fake.pk).update(timeout_s=1)
    agent_using("remote")
    fake_llm.script(llm.tool_call("remote__sleep", {"seconds": 10}), llm.text("Too slow."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded"
    result = observation(fake_llm.requests[1])
    assert result["success"] is False
    assert "timed out after 1 s" in result["error"]


def test_a_server_that_requires_approval_pauses_the_run_until_staff_approve(
    viewer_client, staff_client, fake_llm, stdio_fake
):
    McpServer.objects.filter(pk=stdio_fake.pk).update(requires_approval=True)
    agent_using("fake")
    fake_llm.script(llm.tool_call("fake__echo", {"text": "careful"}), llm.text("Approved it."))

    paused = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert paused["status"] == "requires_approval"
    assert Approval.objects.get().tool == "fake__echo"
    assert not ToolExecution.objects.exists()

    assert decide(staff_client, paused, "approve").status_code == 200
    run = finished(viewer_client, paused["id"])
    assert run["status"] == "succeeded", run
    assert observation(fake_llm.requests[1])["result"] == {"result": "careful"}
    assert ToolExecution.objects.get().tool == "fake__echo"


def test_an_agent_may_pre_approve_a_servers_tool(viewer_client, fake_llm, stdio_fake):
    McpServer.objects.filter(pk=stdio_fake.pk).update(requires_approval=True)
    agent = agent_using("fake")
    agent.pre_approved_tools = ["fake__echo"]
    agent.full_clean()
    agent.save()
    fake_llm.script(llm.tool_call("fake__echo", {"text": "trusted"}), llm.text("Done."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded", run
    (approval,) = run["approvals"]
    assert (approval["tool"], approval["status"]) == ("fake__echo", "pre_approved")
    assert ToolExecution.objects.get().tool == "fake__echo"


def test_one_session_serves_the_whole_run_and_stops_when_it_fails(
    viewer_client, fake_llm, stdio_fake
):
    agent_using("fake")
    fake_llm.script(
        llm.tool_call("fake__pid", {}),
        llm.tool_call("fake__pid", {}),
        llm.error(500, "provider down"),
    )

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "failed"
    first = observation(fake_llm.requests[1])["result"]["result"]
    second = observation(fake_llm.requests[2])["result"]["result"]
    assert first == second  # the same server process: connected once for the run
    assert _gone(first)


def test_a_cancelled_run_stops_its_stdio_server(viewer_client, fake_llm, stdio_fake, settings):
    settings.CONDUCTOR_CANCEL_POLL_SECONDS = 0.05
    agent_using("fake")
    fake_llm.script(llm.tool_call("fake__pid", {}), llm.slow(30, llm.text("far too late")))
    celery_app.conf.task_always_eager = False  # queued: this test runs the task itself
    run_id = start(viewer_client, "mcp_user")["id"]
    worker = threading.Thread(target=execute_run, args=(run_id,))
    worker.start()
    _wait_for(lambda: len(fake_llm.requests) == 2)

    response = viewer_client.post(f"/api/runs/{run_id}/cancel/")
    worker.join(timeout=20)

    assert response.status_code == 202
    assert not worker.is_alive()
    assert Run.objects.get(pk=run_id).status == RunStatus.CANCELLED
    assert _gone(observation(fake_llm.requests[1])["result"]["result"])


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
        return True


# --- servers that cannot be reached -------------------------------------------------


@pytest.fixture
def unreachable(db, settings) -> McpServer:
    port = free_port()
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = [f"127.0.0.1:{port}"]
    return McpServer.objects.create(
        name="down",
        transport=McpTransport.HTTP,
        url=f"http://127.0.0.1:{port}/mcp",
        requires_approval=False,
        timeout_s=5,
    )


def test_an_unreachable_server_is_a_warning_and_the_run_goes_on_without_it(
    viewer_client, fake_llm, unreachable, stdio_fake
):
    agent_using("down", "fake")
    fake_llm.script(llm.text("Fine without it."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded"
    (warning,) = RunEvent.objects.filter(run_id=run["id"], event="run.warning")
    assert warning.data["server"] == "down"
    assert warning.data["message"].startswith("could not connect to MCP server 'down'")
    assert warning.data["message"].endswith("the run goes on without its tools")
    tools = offered_tools(fake_llm.requests[0])
    assert "fake__echo" in tools
    assert not [name for name in tools if name.startswith("down__")]


def test_a_disabled_or_unregistered_server_is_a_warning(viewer_client, fake_llm, http_fake):
    McpServer.objects.filter(pk=http_fake.pk).update(enabled=False)
    agent_using("remote", "gone")  # "gone": named before it was unregistered
    fake_llm.script(llm.text("Fine without them."))

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "succeeded"
    messages = sorted(
        RunEvent.objects.filter(run_id=run["id"], event="run.warning").values_list(
            "data__message", flat=True
        )
    )
    assert messages == [
        "MCP server 'gone' is not registered; the run goes on without its tools",
        "MCP server 'remote' is disabled in the registry; the run goes on without its tools",
    ]
    assert "tools" not in fake_llm.requests[0]


def test_an_unreachable_required_server_fails_the_run_before_any_model_call(
    viewer_client, fake_llm, unreachable
):
    agent_using("down", required=True)

    run = finished(viewer_client, start(viewer_client, "mcp_user")["id"])

    assert run["status"] == "failed"
    assert "'down'" in run["error"]
    assert "requires it" in run["error"]
    assert fake_llm.requests == []


def test_an_instance_can_make_its_agents_server_required(
    viewer, viewer_client, fake_llm, unreachable
):
    agent = agent_using("down")
    instance = AgentInstanceFactory(
        agent=agent,
        conversation=ConversationFactory(created_by=viewer),
        mcp_configs={"servers": {"down": {"required": True}}},
    )

    run = finished(viewer_client, start(viewer_client, "mcp_user", instance_id=instance.pk)["id"])

    assert run["status"] == "failed"
    assert "requires it" in run["error"]


# --- secrets ------------------------------------------------------------------------


def test_a_secret_header_is_resolved_at_connect_time_and_shown_nowhere(
    viewer_client, staff_client, fake_llm, http_fake, http_fake_server, monkeypatch, caplog
):
    secret = "s3cr3t-" + os.urandom(6).hex()
    monkeypatch.setenv("MCP_REMOTE_TOKEN", secret)
    McpServer.objects.filter(pk=http_fake.pk).update(
        headers={"Authorization": "Bearer ${MCP_REMOTE_TOKEN}"}
    )
    agent_using("remote")
    fake_llm.script(llm.tool_call("remote__echo", {"text": "hi"}), llm.text("Done."))
    caplog.set_level(logging.DEBUG)

    run_id = start(viewer_client, "mcp_user")["id"]
    run = finished(viewer_client, run_id)

    assert run["status"] == "succeeded", run
    assert {"authorization": f"Bearer {secret}"}.items() <= http_fake_server.received_headers[
        -1
    ].items()
    responses = [
        staff_client.get("/api/mcp-servers/"),
        staff_client.get("/api/mcp-servers/remote/"),
        viewer_client.get(f"/api/runs/{run_id}/"),
    ]
    for response in responses:
        assert response.status_code == 200, response
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert secret.encode() not in body
    assert "${MCP_REMOTE_TOKEN}" in staff_client.get("/api/mcp-servers/remote/").content.decode()
    assert secret not in caplog.text
    events = RunEvent.objects.filter(run_id=run_id).values_list("data", flat=True)
    assert all(secret not in json.dumps(data) for data in events)
    assert not ToolExecution.objects.filter(output_summary__contains=secret).exists()
