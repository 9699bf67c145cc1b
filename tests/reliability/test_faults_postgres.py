"""PostgreSQL restarted under a running Conductor.

While it is down every request that needs it fails cleanly, a 503 with the error envelope
and never a 500 (a client retries a 503; a 500 says Conductor is broken). Once it is back,
the web's and the worker's connection pools replace their dead connections by themselves:
nobody restarts anything.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.fakes import llm_server as llm
from tests.reliability import _faults
from tests.reliability._faults import (
    conductor,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.faults]

services = _faults.services  # the private Redis and PostgreSQL (a fixture)

RECOVERY_DEADLINE = 30.0


def _is_a_503_envelope(response: httpx.Response) -> bool:
    return response.status_code == 503 and response.json()["error"]["code"] == "service_unavailable"


def _statuses_until_recovered(api: httpx.Client) -> list[int]:
    """The statuses of GET /api/agents/, one after the other, up to the first 200."""
    statuses: list[int] = []

    def recovered() -> bool:
        statuses.append(api.get("/api/agents/").status_code)
        return statuses[-1] == 200

    wait_until(recovered, timeout=RECOVERY_DEADLINE, what="the API to recover", interval=0)
    return statuses


def test_requests_fail_cleanly_while_postgres_restarts_and_the_pools_recover_alone(
    tmp_path, fake_llm, services
):
    cluster = services.postgres.cluster
    fake_llm.script(llm.text("Before the restarts."), llm.text("After the restarts."))
    with (
        conductor(
            directory=tmp_path,
            services=services,
            llm_base_url=fake_llm.base_url,
        ) as app,
        app.api() as api,
    ):
        app.wait_healthy(workers=True)
        # Both pools hold connections that the restarts are about to kill.
        before = app.wait_finished(api, app.start_run(api), timeout=60)
        assert all(api.get("/api/agents/").status_code == 200 for _ in range(4))

        # A quick restart, nobody asking meanwhile: the pool still holds every dead one.
        cluster.stop()
        cluster.start()
        after_quick_restart = _statuses_until_recovered(api)

        cluster.stop()
        down = {
            "list": api.get("/api/agents/"),
            "create": api.post("/api/personas/", json={"name": "Lost", "content": "x"}),
            "stream": api.get(f"/api/runs/{before['id']}/events/"),
            "health": httpx.get(f"{app.base}/health", timeout=15),
        }
        cluster.start()
        back_at = time.monotonic()
        after_outage = _statuses_until_recovered(api)
        recovered_after = time.monotonic() - back_at
        after = app.wait_finished(api, app.start_run(api), timeout=60)

    assert before["status"] == "succeeded", app.outputs()
    for name in ("list", "create", "stream"):
        assert _is_a_503_envelope(down[name]), (name, down[name].text)
    assert down["health"].status_code == 503
    assert "database" in down["health"].json()["failing"]
    # Checked as the pool hands them out, dead connections cost one 503 at most.
    for statuses in (after_quick_restart, after_outage):
        assert statuses[-1] == 200, statuses
        assert set(statuses[:-1]) <= {503}, statuses
        assert len(statuses) <= 2, statuses
    assert recovered_after < RECOVERY_DEADLINE
    # The worker's first attempt may meet a dead connection too: it is retried, not lost.
    assert after["status"] == "succeeded", app.outputs()
    assert after["result"] == "After the restarts."
