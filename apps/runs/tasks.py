from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.context import run_id_var
from apps.runs import execution, services


@shared_task(name="runs.execute_run", acks_late=True, ignore_result=True)
def execute_run(run_id: str) -> None:
    """Idempotent by run id: a redelivered message for a started run does nothing."""
    token = run_id_var.set(run_id)
    try:
        run = services.run_claim(run_id)
        if run is None:
            return
        with execution.heartbeat(run_id, settings.CONDUCTOR_RUN_HEARTBEAT_SECONDS):
            execution.execute(run)
    finally:
        run_id_var.reset(token)


@shared_task(name="runs.reap_stale_runs", ignore_result=True)
def reap_stale_runs() -> int:
    return services.run_reap_stale()
