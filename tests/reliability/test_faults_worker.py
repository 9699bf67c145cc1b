"""A Celery worker process killed with SIGKILL in the middle of a run.

The run must not hang in ``running`` forever, nor run twice: Celery hands the message back
(acks_late, reject_on_worker_lost) and the replacement process finds the run already
claimed, so it does nothing; beat's reaper then fails the run as "worker lost" once its
heartbeats stop. The event log stays one unbroken story with a single ending.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest

from apps.runs import events
from tests.fakes import llm_server as llm
from tests.reliability import _faults
from tests.reliability._faults import (
    FAST_CHILD_ENV,
    conductor,
    descendants_of,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.faults]

services = _faults.services  # the private Redis and PostgreSQL (a fixture)

REAPED_WITHIN = (
    float(FAST_CHILD_ENV["CONDUCTOR_RUN_STALE_AFTER_SECONDS"])
    + float(FAST_CHILD_ENV["CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS"])
    + float(FAST_CHILD_ENV["CONDUCTOR_RUN_HEARTBEAT_SECONDS"])
)
# Beat's database scheduler wakes at least every 5 s; a loaded CI machine adds to that.
SLACK_SECONDS = 20.0


def test_a_run_whose_worker_is_killed_fails_as_worker_lost_once_and_only_once(
    tmp_path, fake_llm, services
):
    fake_llm.script(llm.slow(120, llm.text("Never sent: the worker is dead by then.")))
    with (
        conductor(
            directory=tmp_path,
            services=services,
            llm_base_url=fake_llm.base_url,
            beat=True,
        ) as app,
        app.api() as api,
    ):
        app.wait_healthy(workers=True)
        run_id = app.start_run(api)
        wait_until(lambda: fake_llm.requests, timeout=30, what="the run's LLM call")
        assert app.run_status(api, run_id)["status"] == "running"
        worker = app.children["worker"]
        (pool_process,) = descendants_of(worker.pid)  # --concurrency=1

        os.kill(pool_process, signal.SIGKILL)
        killed_at = time.monotonic()
        run = app.wait_finished(api, run_id, timeout=REAPED_WITHIN + SLACK_SECONDS)
        reaped_after = time.monotonic() - killed_at
        task = r"runs\.execute_run\[[^\]]+\]"
        redelivered = wait_until(
            lambda: (
                len(re.findall(rf"{task} received", worker.output)) == 2
                and re.search(rf"{task} succeeded", worker.output)
            ),
            timeout=30,
            what="the killed run's message to come back",
        )

    assert run["status"] == "failed", app.outputs()
    assert run["error"] == "worker lost"
    assert reaped_after < REAPED_WITHIN + SLACK_SECONDS
    log = services.events(run_id)
    assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
    assert [name for _, name in log if name in events.TERMINAL_EVENTS] == [events.RUN_FAILED]
    assert log[-1][1] == events.RUN_FAILED
    assert [name for _, name in log].count(events.RUN_STARTED) == 1
    # Handed back by Celery and taken by the new pool process, the killed run's message
    # found the run already claimed and did nothing: the LLM saw one call.
    assert redelivered
    assert len(fake_llm.requests) == 1
