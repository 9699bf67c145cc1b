"""LLM provider faults, end to end: 429 and 500, then timeouts: retries, fallback, clean failure.

Each run goes through the API and the Celery task (eager), the real litellm client and
the scripted fake LLM over HTTP. Every error reply carries a tiny ``Retry-After``, which
the gateway honours, so the retries cost milliseconds instead of their exponential backoff.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.runs.models import TERMINAL_STATUSES, Run, RunEvent
from apps.runtime import llm as gateway
from tests.factories import AgentFactory
from tests.fakes import llm_server as llm

pytestmark = pytest.mark.django_db(transaction=True)

PRIMARY = "gpt-4o-mini"
FALLBACK = "openai/backup-model"
FALLBACK_ON_THE_WIRE = "backup-model"  # litellm strips the provider prefix
QUICK = 0.01  # seconds of Retry-After on every scripted error
CALL_TIMEOUT = 1.0  # CONDUCTOR_LLM_TIMEOUT_SECONDS in the timeout tests
TOO_SLOW = 6.0  # a reply this late is past CALL_TIMEOUT, and far inside the run's timeout


@pytest.fixture
def agent(db):
    return AgentFactory(slug="flaky", model=PRIMARY, tools=[], fallback_models=[FALLBACK])


def run_to_the_end(client: Any) -> dict[str, Any]:
    started = client.post(
        "/api/agents/flaky/run/", {"input": "Answer.", "cwd": "/srv/project"}, format="json"
    )
    assert started.status_code == 202, started.content
    run = client.get(f"/api/runs/{started.json()['id']}/")
    assert run.status_code == 200, run.content
    return run.json()


def models_called(fake_llm: llm.FakeLLMServer) -> list[str]:
    return [request["model"] for request in fake_llm.requests]


def events(run_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("event", "data")
    return [(name, data) for name, data in rows if name != "llm.delta"]


def assert_nothing_left_running() -> None:
    assert not Run.objects.exclude(status__in=TERMINAL_STATUSES).exists()
    assert gateway.wait_for_abandoned_calls(timeout=10) == 0


@pytest.mark.usefixtures("eager_celery")
def test_a_429_then_a_500_are_retried_and_the_run_succeeds(
    viewer_client, agent, fake_llm, settings
):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 2
    fake_llm.script(
        llm.error(429, "rate limited", retry_after=QUICK),
        llm.error(500, "hiccup", retry_after=QUICK),
        llm.text("third time lucky"),
    )

    run = run_to_the_end(viewer_client)

    assert run["status"] == "succeeded", run["error"]
    assert run["result"] == "third time lucky"
    assert models_called(fake_llm) == [PRIMARY] * 3
    assert [s["payload"]["model"] for s in run["steps"] if s["kind"] == "llm_call"] == [PRIMARY]
    assert [name for name, _ in events(run["id"])][-1] == "run.succeeded"


@pytest.mark.usefixtures("eager_celery")
def test_a_primary_failing_every_retry_hands_the_step_to_the_fallback(
    viewer_client, agent, fake_llm, settings
):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 2
    fake_llm.script(
        llm.error(429, "rate limited", retry_after=QUICK),
        llm.error(500, "still down", retry_after=QUICK),
        llm.error(429, "rate limited again", retry_after=QUICK),
        llm.text("the backup answered"),
    )

    run = run_to_the_end(viewer_client)

    assert run["status"] == "succeeded", run["error"]
    assert run["result"] == "the backup answered"
    assert models_called(fake_llm) == [PRIMARY] * 3 + [FALLBACK_ON_THE_WIRE]
    assert [s["payload"]["model"] for s in run["steps"] if s["kind"] == "llm_call"] == [FALLBACK]


@pytest.mark.usefixtures("eager_celery")
def test_the_retry_waits_as_long_as_the_providers_retry_after(
    viewer_client, agent, fake_llm, settings
):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 1
    fake_llm.script(llm.error(429, "come back later", retry_after=1.5), llm.text("waited"))

    run = run_to_the_end(viewer_client)

    assert run["status"] == "succeeded", run["error"]
    assert models_called(fake_llm) == [PRIMARY] * 2
    # Without Retry-After the first retry comes after 0.5 s.
    assert run["duration_ms"] >= 1500


@pytest.mark.usefixtures("eager_celery")
def test_timeouts_on_primary_and_fallback_fail_the_run_not_time_it_out(
    viewer_client, agent, fake_llm, settings
):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 1
    settings.CONDUCTOR_LLM_TIMEOUT_SECONDS = CALL_TIMEOUT
    fake_llm.script(*[llm.slow(TOO_SLOW, llm.text("too late")) for _ in range(4)])

    run = run_to_the_end(viewer_client)

    assert run["status"] == "failed", run
    assert models_called(fake_llm) == [PRIMARY] * 2 + [FALLBACK_ON_THE_WIRE] * 2
    assert f"{PRIMARY}: " in run["error"]
    assert f"{FALLBACK}: " in run["error"]
    assert run["error"].lower().count("timed out") >= 2, run["error"]
    assert_a_single_clean_failure(run)


@pytest.mark.usefixtures("eager_celery")
def test_429_and_500_then_timeouts_end_in_a_failure_with_the_providers_message(
    viewer_client, agent, fake_llm, settings
):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 1
    settings.CONDUCTOR_LLM_TIMEOUT_SECONDS = CALL_TIMEOUT
    fake_llm.script(
        llm.error(429, "quota exhausted for org-42", retry_after=QUICK),
        llm.error(500, "upstream overloaded, shard 7", retry_after=QUICK),
        llm.slow(TOO_SLOW, llm.text("too late")),
        llm.slow(TOO_SLOW, llm.text("too late")),
    )

    run = run_to_the_end(viewer_client)

    assert run["status"] == "failed", run
    assert models_called(fake_llm) == [PRIMARY] * 2 + [FALLBACK_ON_THE_WIRE] * 2
    primary, fallback = run["error"].removeprefix("model provider error: ").split("; ")
    assert primary.startswith(f"{PRIMARY}: ")
    assert "upstream overloaded, shard 7" in primary
    assert fallback.startswith(f"{FALLBACK}: ")
    assert "timed out" in fallback.lower()
    assert_a_single_clean_failure(run)


@pytest.mark.usefixtures("eager_celery")
def test_a_reply_that_stalls_after_its_first_words_is_not_retried(
    viewer_client, agent, fake_llm, settings
):
    """A retry would stream the same words again: the stalled model is given up at once."""
    settings.CONDUCTOR_LLM_NUM_RETRIES = 2
    settings.CONDUCTOR_LLM_TIMEOUT_SECONDS = CALL_TIMEOUT
    fake_llm.script(
        llm.stall(llm.text("the first words, then silence"), after_chunks=2, seconds=TOO_SLOW),
        llm.text("the backup answered"),
    )

    run = run_to_the_end(viewer_client)

    assert run["status"] == "succeeded", run["error"]
    assert run["result"] == "the backup answered"
    assert models_called(fake_llm) == [PRIMARY, FALLBACK_ON_THE_WIRE]


def assert_a_single_clean_failure(run: dict[str, Any]) -> None:
    """One terminal event, ``run.failed``, whose payload carries the run's error; no traceback."""
    logged = events(run["id"])
    assert [name for name, _ in logged] == ["run.queued", "run.started", "run.failed"]
    assert logged[-1][1]["error"] == run["error"]
    assert "Traceback" not in run["error"]
    assert "internal error" not in run["error"]
    assert_nothing_left_running()
