import pytest

from apps.runs.models import RunStep
from tests.fakes import llm_server as llm
from tests.runs.helpers import assert_gapless, event_names, finished, start, without_deltas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def test_a_native_tool_call_then_a_final_answer(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.tool_call("echo", {"text": "hi"}), llm.text("The tool said hi."))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "succeeded", run
    assert run["result"] == "The tool said hi."
    assert [step["kind"] for step in run["steps"]] == [
        "llm_call", "tool_call", "tool_result", "llm_call", "final_answer",
    ]  # fmt: skip
    tool_result = run["steps"][2]["payload"]
    assert tool_result["result"] == {"echo": "hi", "cwd": "/srv/project"}
    assert run["total_tokens"] > 0
    assert float(run["cost_usd"]) > 0
    assert fake_llm.requests[0]["tools"][0]["function"]["name"] == "echo"
    assert without_deltas(event_names(run["id"])) == [
        "run.queued", "run.started", "llm.completed", "tool.called", "tool.result",
        "llm.completed", "run.succeeded",
    ]  # fmt: skip
    assert_gapless(run["id"])


def test_the_json_protocol_tolerates_fences_and_prose(viewer_client, json_agent, fake_llm):
    fake_llm.script(
        llm.text(
            'Let me use the tool.\n```json\n{"thought": "echo it", '
            '"action": {"tool": "echo", "arguments": {"text": "hi"}}}\n```'
        ),
        llm.text('Done. {"thought": "finished", "final_answer": "It said hi."}'),
    )

    run = finished(viewer_client, start(viewer_client, "jsonish")["id"])

    assert run["status"] == "succeeded", run
    assert run["result"] == "It said hi."
    assert "tools" not in fake_llm.requests[0]
    assert "Reply format" in fake_llm.requests[0]["messages"][0]["content"]
    assert [step["kind"] for step in run["steps"]][:3] == ["llm_call", "tool_call", "tool_result"]
    assert run["cost_usd"] == "0.000000"  # no price known: zero, and no crash
    assert_gapless(run["id"])


def test_a_malformed_reply_becomes_an_observation_and_the_run_goes_on(
    viewer_client, json_agent, fake_llm
):
    fake_llm.script(llm.malformed(), llm.text('{"thought": "ok", "final_answer": "recovered"}'))

    run = finished(viewer_client, start(viewer_client, "jsonish")["id"])

    assert run["status"] == "succeeded"
    assert run["result"] == "recovered"
    observation = fake_llm.requests[1]["messages"][-1]["content"]
    assert "Observation" in observation


def test_an_unknown_tool_is_an_observation_not_a_crash(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.tool_call("rm_rf", {"path": "/"}), llm.text("ok"))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "succeeded"
    assert "not available" in run["steps"][2]["payload"]["error"]
    assert RunStep.objects.filter(run_id=run["id"], kind="tool_result").count() == 1


def test_streamed_deltas_are_emitted_as_llm_delta_events(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.text("Hello there, streaming world!", chunks=5))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    from apps.runs.models import RunEvent

    deltas = RunEvent.objects.filter(run_id=run["id"], event="llm.delta").order_by("seq")
    assert deltas.count() >= 3
    assert "".join(delta.data["text"] for delta in deltas) == "Hello there, streaming world!"
    assert run["result"] == "Hello there, streaming world!"
