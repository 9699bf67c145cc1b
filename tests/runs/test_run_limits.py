import time

import pytest

from apps.runtime.llm import litellm_module
from tests.fakes import llm_server as llm
from tests.runs.helpers import assert_gapless, event_names, finished, start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def test_reaching_max_steps_without_an_answer_fails(viewer_client, native_agent, fake_llm):
    fake_llm.script(*[llm.tool_call("echo", {"text": str(n)}) for n in range(2)])

    run = finished(viewer_client, start(viewer_client, "native", max_steps=2)["id"])

    assert run["status"] == "failed"
    assert "max_steps (2)" in run["error"]
    assert event_names(run["id"])[-1] == "run.failed"
    assert_gapless(run["id"])


def test_the_wall_clock_timeout_ends_the_run_timed_out(viewer_client, native_agent, fake_llm):
    litellm_module()  # a cold import takes seconds; the test times the run, not that
    fake_llm.script(llm.slow(10, llm.text("too late")))

    started = time.monotonic()
    run = finished(viewer_client, start(viewer_client, "native", timeout_seconds=1)["id"])

    assert run["status"] == "timed_out", run["error"]
    assert time.monotonic() - started < 5
    assert event_names(run["id"])[-1] == "run.timed_out"


def test_the_cost_budget_ends_the_run_failed_with_the_reason(viewer_client, native_agent, fake_llm):
    fake_llm.script(
        llm.tool_call(
            "echo", {"text": "x"}, usage={"prompt_tokens": 1000, "completion_tokens": 1000}
        ),
        llm.text("never"),
    )

    run = finished(viewer_client, start(viewer_client, "native", max_cost_usd="0.000001")["id"])

    assert run["status"] == "failed"
    assert "cost budget exceeded" in run["error"]
    assert len(fake_llm.requests) == 1


def test_the_token_budget_ends_the_run_failed_with_the_reason(
    viewer_client, native_agent, fake_llm
):
    fake_llm.script(
        llm.tool_call("echo", {"text": "x"}, usage={"prompt_tokens": 40, "completion_tokens": 20}),
        llm.text("never"),
    )

    run = finished(viewer_client, start(viewer_client, "native", max_tokens=50)["id"])

    assert run["status"] == "failed"
    assert "token budget exceeded: 60 > 50" in run["error"]


def test_a_provider_error_falls_back_to_the_next_model(viewer_client, native_agent, fake_llm):
    native_agent.fallback_models = ["openai/backup-model"]
    native_agent.save()
    fake_llm.script(llm.error(500, "primary is down"), llm.text("answered by the backup"))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "succeeded", run
    assert run["result"] == "answered by the backup"
    assert fake_llm.requests[0]["model"] == "gpt-4o-mini"
    assert fake_llm.requests[-1]["model"] == "backup-model"
    assert [step["payload"]["model"] for step in run["steps"] if step["kind"] == "llm_call"] == [
        "openai/backup-model"
    ]


def test_when_every_model_fails_the_run_fails_with_the_providers_message(
    viewer_client, native_agent, fake_llm
):
    native_agent.fallback_models = ["openai/backup-model"]
    native_agent.save()
    fake_llm.script(llm.error(500, "primary is down"), llm.error(503, "backup is down too"))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "failed"
    assert "primary is down" in run["error"]
    assert "backup is down too" in run["error"]


def test_a_rate_limit_is_retried_before_falling_back(
    viewer_client, native_agent, fake_llm, settings
):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 1
    fake_llm.script(llm.error(429, "slow down"), llm.text("second try worked"))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "succeeded", run
    assert [request["model"] for request in fake_llm.requests] == ["gpt-4o-mini", "gpt-4o-mini"]
