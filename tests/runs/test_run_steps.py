"""How a run's steps and events are numbered and when they land."""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps as django_apps

from apps.runs import events, services
from apps.runs.models import Run, RunEvent, RunStep
from apps.runtime.tools import BaseTool, ToolContext, ToolDefinition, ToolResult, registry
from apps.tools.audit import tool_execution
from apps.tools.models import ToolExecution
from tests.factories import AgentFactory
from tests.fakes import llm_server as llm
from tests.runs.conftest import decide
from tests.runs.helpers import assert_gapless, event_names, finished, start, without_deltas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def _indexes(run_id: str) -> list[int]:
    return list(
        RunStep.objects.filter(run_id=run_id).order_by("index").values_list("index", flat=True)
    )


class LogReader(BaseTool):
    """Reports what its run's log held when it ran."""

    definition = ToolDefinition(name="log_reader", description="Reads the run's event log.")

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        names = await sync_to_async(event_names)(context.run_id)
        return ToolResult(success=True, result=without_deltas(names))


@pytest.fixture
def log_reader(db):
    registry.register(LogReader())
    yield AgentFactory(slug="reader", model="gpt-4o-mini", tools=["log_reader"])
    registry.unregister("log_reader")


def test_steps_are_numbered_one_to_n_in_the_order_they_happened(
    viewer_client, native_agent, fake_llm
):
    fake_llm.script(
        llm.tool_call("echo", {"text": "one"}),
        llm.tool_call("echo", {"text": "two"}),
        llm.text("ok"),
    )

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert [(step["index"], step["kind"]) for step in run["steps"]] == [
        (1, "llm_call"), (2, "tool_call"), (3, "tool_result"),
        (4, "llm_call"), (5, "tool_call"), (6, "tool_result"),
        (7, "llm_call"), (8, "final_answer"),
    ]  # fmt: skip
    assert Run.objects.get(pk=run["id"]).last_step_index == 8
    assert_gapless(run["id"])


def test_a_tool_runs_once_its_call_is_in_the_log(viewer_client, log_reader, fake_llm):
    fake_llm.script(llm.tool_call("log_reader", {}), llm.text("read"))

    run = finished(viewer_client, start(viewer_client, "reader")["id"])

    seen = run["steps"][2]["payload"]["result"]
    assert seen == ["run.queued", "run.started", "llm.completed", "tool.called"]


def test_a_resumed_run_numbers_its_steps_on_from_those_before_the_approval(
    paused, staff_client, viewer_client
):
    decide(staff_client, paused, "approve")

    run = finished(viewer_client, paused["id"])
    assert run["status"] == "succeeded", run
    assert [step["index"] for step in run["steps"]] == list(range(1, len(run["steps"]) + 1))
    assert [step["kind"] for step in run["steps"]] == [
        "llm_call", "tool_call", "approval", "tool_result", "llm_call", "final_answer",
    ]  # fmt: skip
    assert_gapless(run["id"])


def _claimed_run(agent: Any, user: Any) -> Run:
    request = services.RunRequest(agent=agent, input="go", cwd="/srv/project")
    run = services.run_start(request=request, actor=user, enqueue=False)
    claimed = services.run_claim(str(run.pk))
    assert claimed is not None
    return claimed


def test_an_event_another_process_appends_mid_run_keeps_both_logs_gapless(native_agent, viewer):
    executing = _claimed_run(native_agent, viewer)
    services.run_record_steps(
        run=executing,
        steps=[services.StepRecord(kind="tool_call", payload={}, event=events.TOOL_CALLED)],
    )
    elsewhere = Run.objects.get(pk=executing.pk)  # say, a web process
    services.run_event_emit(elsewhere, events.APPROVAL_RESOLVED, {"decision": "approved"})

    services.run_record_steps(  # from counters read before that event
        run=executing,
        steps=[
            services.StepRecord(kind="tool_result", payload={}, event=events.TOOL_RESULT),
            services.StepRecord(kind="final_answer", payload={"text": "done"}),
        ],
    )

    assert event_names(str(executing.pk)) == [
        "run.queued", "run.started", "tool.called", "approval.resolved", "tool.result",
    ]  # fmt: skip
    assert_gapless(str(executing.pk))
    assert _indexes(str(executing.pk)) == [1, 2, 3]


def test_an_audit_row_goes_in_with_its_step_once_even_when_the_write_is_retried(
    native_agent, viewer
):
    executing = _claimed_run(native_agent, viewer)
    elsewhere = Run.objects.get(pk=executing.pk)
    services.run_event_emit(elsewhere, events.APPROVAL_RESOLVED, {"decision": "approved"})
    audit = tool_execution(
        tool="echo",
        arguments={"text": "hi", "api_key": "sk-live"},
        result="hi",
        success=True,
        error=None,
        duration_ms=3,
        run_id=executing.pk,
        user_id=viewer.pk,
    )

    services.run_record_steps(  # the first attempt finds the counters moved, the retry lands
        run=executing,
        steps=[services.StepRecord(kind="tool_result", payload={}, event=events.TOOL_RESULT)],
        rows=[audit],
    )

    [row] = ToolExecution.objects.filter(run_id=executing.pk)
    assert (row.tool, row.output_summary, row.user_id) == ("echo", "hi", viewer.pk)
    assert row.arguments == {"text": "hi", "api_key": "[redacted]"}
    assert _indexes(str(executing.pk)) == [1]
    assert_gapless(str(executing.pk))


def test_usage_of_recorded_steps_adds_up_on_the_run(native_agent, viewer):
    run = _claimed_run(native_agent, viewer)
    step = services.StepRecord(
        kind="llm_call",
        payload={},
        prompt_tokens=10,
        completion_tokens=2,
        cost_usd=Decimal("0.0015"),
    )

    services.run_record_steps(run=run, steps=[step, step])

    run.refresh_from_db()
    assert (run.prompt_tokens, run.completion_tokens, run.total_tokens) == (20, 4, 24)
    assert str(run.cost_usd) == "0.003000"


def test_runs_with_steps_from_before_the_step_counter_number_on_after_them(native_agent, viewer):
    run = _claimed_run(native_agent, viewer)
    for index in (1, 2, 3):
        RunStep.objects.create(run=run, index=index, kind="llm_call")
    Run.objects.filter(pk=run.pk).update(last_step_index=0)  # as the migration found it
    migration = importlib.import_module("apps.runs.migrations.0003_run_last_step_index")

    migration.number_from_existing_steps(django_apps, None)
    run.refresh_from_db()
    services.run_record_steps(run=run, steps=[services.StepRecord(kind="final_answer", payload={})])

    assert _indexes(str(run.pk)) == [1, 2, 3, 4]
    assert RunEvent.objects.filter(run=run).count() == run.last_event_seq
