import threading
import time

import pytest

from apps.runs.models import Run, RunEvent, RunStatus
from apps.runs.tasks import execute_run
from apps.runtime.llm import litellm_module
from tests.factories import UserFactory
from tests.fakes import llm_server as llm
from tests.runs.helpers import assert_gapless, event_names, finished, start

pytestmark = pytest.mark.django_db(transaction=True)


def queued_run(client, agent_slug: str) -> str:
    # Not eager: the run stays queued until the test runs its task.
    return start(client, agent_slug)["id"]


def test_cancelling_a_queued_run_keeps_it_from_starting(viewer_client, native_agent, fake_llm):
    run_id = queued_run(viewer_client, "native")

    response = viewer_client.post(f"/api/runs/{run_id}/cancel/")
    execute_run(run_id)  # the worker picks the message up afterwards

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert event_names(run_id) == ["run.queued", "run.cancelled"]
    assert fake_llm.requests == []


@pytest.mark.usefixtures("eager_celery")
def test_cancelling_a_finished_run_is_a_409(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.text("done"))
    run_id = start(viewer_client, "native")["id"]

    response = viewer_client.post(f"/api/runs/{run_id}/cancel/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "run_not_cancellable"
    assert finished(viewer_client, run_id)["status"] == "succeeded"


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_cancelling_during_a_long_llm_call_cancels_that_call(
    viewer_client, native_agent, fake_llm, settings
):
    settings.CONDUCTOR_CANCEL_POLL_SECONDS = 0.05
    litellm_module()  # a cold import takes seconds; the test times the cancel, not that
    fake_llm.script(llm.slow(30, llm.text("far too late")))
    run_id = queued_run(viewer_client, "native")
    worker = threading.Thread(target=execute_run, args=(run_id,))
    worker.start()
    wait_for(lambda: len(fake_llm.requests) == 1, timeout=30)

    started = time.monotonic()
    response = viewer_client.post(f"/api/runs/{run_id}/cancel/")
    worker.join(timeout=10)

    assert response.status_code == 202
    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    run = Run.objects.get(pk=run_id)
    assert run.status == RunStatus.CANCELLED, run.error
    assert event_names(run_id)[-1] == "run.cancelled"
    assert_gapless(run_id)


def test_a_cancel_between_steps_stops_before_the_next_model_call(
    viewer_client, native_agent, fake_llm, settings, monkeypatch
):
    settings.CONDUCTOR_CANCEL_POLL_SECONDS = 0.0
    fake_llm.script(llm.tool_call("echo", {"text": "x"}), llm.text("never asked"))
    run_id = queued_run(viewer_client, "native")
    from tests.runs.conftest import EchoTool

    async def cancel_then_echo(self, arguments, context):
        await __import__("asgiref.sync").sync.sync_to_async(
            lambda: Run.objects.filter(pk=run_id).update(cancel_requested_at="2026-01-01T00:00Z")
        )()
        return await original(self, arguments, context)

    original = EchoTool.run
    monkeypatch.setattr(EchoTool, "run", cancel_then_echo)

    execute_run(run_id)

    run = Run.objects.get(pk=run_id)
    assert run.status == RunStatus.CANCELLED, run.error
    # No model step after the cancel: the second scripted reply is never used.
    assert list(run.steps.values_list("kind", flat=True)) == [
        "llm_call",
        "tool_call",
        "tool_result",
    ]
    assert "never asked" not in run.result


@pytest.mark.usefixtures("eager_celery")
def test_a_redelivered_task_does_not_run_the_agent_twice(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.text("once"))
    run_id = start(viewer_client, "native")["id"]
    events_before = RunEvent.objects.filter(run_id=run_id).count()
    requests_before = len(fake_llm.requests)

    execute_run(run_id)  # the broker delivers the same message again

    assert RunEvent.objects.filter(run_id=run_id).count() == events_before
    assert len(fake_llm.requests) == requests_before
    assert finished(viewer_client, run_id)["result"] == "once"


def test_another_users_run_answers_404(viewer_client, native_agent, api_client):
    run_id = queued_run(viewer_client, "native")
    api_client.force_authenticate(UserFactory(username="intruder"))

    assert api_client.get(f"/api/runs/{run_id}/").status_code == 404
    assert api_client.post(f"/api/runs/{run_id}/cancel/").status_code == 404
    assert run_id not in str(api_client.get("/api/runs/").json())
    assert Run.objects.get(pk=run_id).status == RunStatus.QUEUED


def test_staff_see_every_run(viewer_client, native_agent, staff_client):
    run_id = queued_run(viewer_client, "native")

    assert staff_client.get(f"/api/runs/{run_id}/").status_code == 200
