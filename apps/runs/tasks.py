from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.conf import settings

from apps.core.context import run_id_var
from apps.core.exceptions import DATABASE_OUTAGE_ERRORS
from apps.runs import approvals, execution, services

# A database outage must not lose a run: the message would be acked with the run still
# queued, and no worker would ever hear of it again. The task is sent again, a dozen times
# at most, 1, 2, 4... s apart (at most a minute); claiming the run first makes that safe.
RETRY_ON_DATABASE_OUTAGE: dict[str, Any] = {
    "autoretry_for": DATABASE_OUTAGE_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 12,
}


def _carry_out(run_id: str, claim: Callable[[str], Any], proceed: Callable[[Any], Any]) -> None:
    """Claims the run (None: nothing to do) and proceeds under a heartbeat, logging its id."""
    token = run_id_var.set(run_id)
    try:
        claimed = claim(run_id)
        if claimed is None:
            return
        with execution.heartbeat(run_id, settings.CONDUCTOR_RUN_HEARTBEAT_SECONDS):
            proceed(claimed)
    finally:
        run_id_var.reset(token)


@shared_task(
    name="runs.execute_run", acks_late=True, ignore_result=True, **RETRY_ON_DATABASE_OUTAGE
)
def execute_run(run_id: str) -> None:
    """Idempotent by run id: a redelivered message for a started run does nothing."""
    _carry_out(run_id, services.run_claim, execution.execute)


@shared_task(name="runs.resume_run", acks_late=True, ignore_result=True, **RETRY_ON_DATABASE_OUTAGE)
def resume_run(run_id: str) -> None:
    """Continues a run whose approval was decided; a duplicate delivery does nothing."""
    _carry_out(run_id, approvals.run_claim_for_resume, lambda claimed: execution.resume(*claimed))


@shared_task(name="runs.reap_stale_runs", ignore_result=True)
def reap_stale_runs() -> int:
    """Fails runs whose worker was lost, and expires approvals nobody decided in time."""
    approvals.approvals_expire()
    return services.run_reap_stale()
