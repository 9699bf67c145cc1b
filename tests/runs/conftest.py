from __future__ import annotations

from typing import Any

import pytest

from apps.runtime.tools import (
    BaseTool,
    ToolCategory,
    ToolContext,
    ToolDefinition,
    ToolResult,
    registry,
)
from conductor_site.celery import app as celery_app
from tests.factories import AgentFactory, ScreenplayFactory

NATIVE_MODEL = "gpt-4o-mini"  # litellm knows it: native tool calling, and a price
JSON_MODEL = "openai/scripted-json-model"  # unknown to litellm: JSON protocol, no price


class EchoTool(BaseTool):
    definition = ToolDefinition(
        name="echo",
        description="Repeats the text it is given.",
        parameters={
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        return ToolResult(success=True, result={"echo": arguments["text"], "cwd": context.cwd})


@pytest.fixture(autouse=True)
def echo_tool():
    registry.register(EchoTool())
    yield
    registry.unregister("echo")


@pytest.fixture
def eager_celery(settings):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 0
    settings.CONDUCTOR_CANCEL_POLL_SECONDS = 0.05
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_eager_propagates = False


@pytest.fixture
def screenplay(db):
    return ScreenplayFactory(working_directory="/srv/project")


@pytest.fixture
def native_agent(db):
    return AgentFactory(slug="native", model=NATIVE_MODEL, tools=["echo"])


@pytest.fixture
def json_agent(db):
    return AgentFactory(slug="jsonish", model=JSON_MODEL, tools=["echo"])


@pytest.fixture(autouse=True)
def every_event_log_is_gapless(request):
    """After each test, every run's events carry seq 1..n: no gap, no duplicate."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from apps.runs.models import RunEvent

    logs: dict[str, list[int]] = {}
    for run_id, seq in RunEvent.objects.order_by("run_id", "seq").values_list("run_id", "seq"):
        logs.setdefault(str(run_id), []).append(seq)
    for run_id, seqs in logs.items():
        assert seqs == list(range(1, len(seqs) + 1)), f"run {run_id} has event seqs {seqs}"


# --- Approvals: a tool that needs a human -----------------------------------

CALLS: list[dict[str, Any]] = []


class DangerousTool(BaseTool):
    definition = ToolDefinition(
        name="dangerous",
        description="Does something a human must approve.",
        parameters={"type": "object", "properties": {"target": {"type": "string"}}},
        category=ToolCategory.SYSTEM,
        requires_approval=True,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        CALLS.append(arguments)
        return ToolResult(success=True, result={"done": arguments.get("target")})


@pytest.fixture
def dangerous_tool():
    CALLS.clear()
    registry.register(DangerousTool())
    yield
    registry.unregister("dangerous")


@pytest.fixture
def careful_agent(native_agent, dangerous_tool):
    native_agent.tools = ["dangerous"]
    native_agent.save()
    return native_agent


@pytest.fixture
def paused(viewer_client, careful_agent, fake_llm):
    from tests.fakes import llm_server as llm
    from tests.runs.helpers import finished, start

    fake_llm.script(llm.tool_call("dangerous", {"target": "prod"}), llm.text("Finished."))
    run = start(viewer_client, "native")
    return finished(viewer_client, run["id"])


def decide(client, run: dict, decision: str, reason: str = "checked"):
    approval_id = run["approvals"][0]["id"]
    return client.post(
        f"/api/runs/{run['id']}/approvals/{approval_id}/",
        {"decision": decision, "reason": reason},
        format="json",
    )
