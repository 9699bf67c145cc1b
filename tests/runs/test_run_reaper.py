from datetime import timedelta

import pytest
from django.utils import timezone

from apps.runs.models import Run, RunStatus
from apps.runs.services import run_claim
from apps.runs.tasks import reap_stale_runs
from tests.runs.helpers import assert_gapless, event_names, start

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_whose_worker_died_is_failed_by_the_reaper(viewer_client, native_agent, settings):
    settings.CONDUCTOR_RUN_STALE_AFTER_SECONDS = 60
    run_id = start(viewer_client, "native")["id"]
    run_claim(run_id)  # a worker took it, then died: no more heartbeats
    Run.objects.filter(pk=run_id).update(heartbeat_at=timezone.now() - timedelta(minutes=5))

    reaped = reap_stale_runs()

    run = Run.objects.get(pk=run_id)
    assert reaped == 1
    assert run.status == RunStatus.FAILED
    assert run.error == "worker lost"
    assert event_names(run_id)[-1] == "run.failed"
    assert_gapless(run_id)


def test_the_reaper_leaves_runs_with_a_fresh_heartbeat_alone(viewer_client, native_agent):
    run_id = start(viewer_client, "native")["id"]
    run_claim(run_id)

    assert reap_stale_runs() == 0
    assert Run.objects.get(pk=run_id).status == RunStatus.RUNNING


def test_the_reaper_is_scheduled_by_beat(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["reap-stale-runs"]

    assert schedule["task"] == "runs.reap_stale_runs"
    assert schedule["schedule"] == settings.CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS
