"""One run through a real Celery worker and a real Redis broker, end to end."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from apps.runs.models import Run, RunStatus
from conductor_site.celery import app as celery_app
from tests.fakes import llm_server as llm
from tests.runs.helpers import assert_gapless, event_names, start, without_deltas

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_worker():
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the broker under test is not Redis (set REDIS_URL)")
    if connection.vendor == "sqlite":
        # In-memory SQLite's shared cache locks whole tables between threads.
        pytest.skip("a worker thread needs a server database (set DATABASE_URL to PostgreSQL)")
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def test_a_real_worker_executes_a_run_sent_through_redis(
    viewer_client, native_agent, fake_llm, redis_worker
):
    fake_llm.script(llm.tool_call("echo", {"text": "hi"}), llm.text("Done by the worker."))

    run_id = start(viewer_client, "native")["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not Run.objects.get(pk=run_id).is_finished:
        time.sleep(0.1)

    run = Run.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.result == "Done by the worker."
    assert without_deltas(event_names(run_id))[:2] == ["run.queued", "run.started"]
    assert_gapless(run_id)


def test_a_run_waiting_for_approval_holds_no_worker(
    viewer_client, careful_agent, fake_llm, redis_worker
):
    # One solo worker: if the paused run held it, the second run could never finish.
    fake_llm.script(llm.tool_call("dangerous", {"target": "prod"}), llm.text("Second run done."))

    waiting = start(viewer_client, "native")["id"]
    wait_until(lambda: Run.objects.get(pk=waiting).status == RunStatus.REQUIRES_APPROVAL)
    careful_agent.tools = []
    careful_agent.save()
    other = start(viewer_client, "native", input="something else")["id"]
    wait_until(lambda: Run.objects.get(pk=other).is_finished)

    assert Run.objects.get(pk=other).status == RunStatus.SUCCEEDED
    assert Run.objects.get(pk=waiting).status == RunStatus.REQUIRES_APPROVAL


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
