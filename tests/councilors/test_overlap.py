"""A tick while the previous run is still going is skipped, and the skip is recorded."""

import threading

import pytest
from django.db import connection

from apps.councilors import services
from apps.councilors.models import CouncilorTick
from apps.councilors.tasks import councilor_tick
from apps.runs.models import Run, RunStatus
from tests.envelope import assert_envelope


def start_run(councilor) -> Run:
    tick = services.councilor_execute(councilor_id=councilor.pk)
    assert tick.outcome == "started"
    return tick.run


@pytest.mark.django_db
@pytest.mark.parametrize("status", [RunStatus.QUEUED, RunStatus.RUNNING, "requires_approval"])
def test_a_tick_is_skipped_while_the_previous_run_is_going(councilor, status):
    run = start_run(councilor)
    Run.objects.filter(pk=run.pk).update(status=status)

    councilor_tick(councilor.pk)

    skipped = CouncilorTick.objects.filter(outcome="skipped").get()
    assert (skipped.trigger, skipped.skip_reason) == ("schedule", "busy")
    assert str(run.pk) in skipped.reason
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_a_tick_starts_a_new_run_once_the_previous_one_finished(councilor):
    run = start_run(councilor)
    Run.objects.filter(pk=run.pk).update(status=RunStatus.SUCCEEDED)

    councilor_tick(councilor.pk)

    assert Run.objects.count() == 2
    assert not CouncilorTick.objects.filter(outcome="skipped").exists()


@pytest.mark.django_db
def test_execute_now_is_a_409_while_a_run_is_going(editor_client, councilor):
    run = start_run(councilor)

    response = editor_client.post(f"/api/councilors/{councilor.pk}/execute-now/")

    error = assert_envelope(response, 409, "councilor_busy")
    assert error["details"]["skip_reason"] == "busy"
    skipped = CouncilorTick.objects.get(pk=error["details"]["tick"])
    assert (skipped.outcome, skipped.trigger) == ("skipped", "manual")
    assert str(run.pk) in skipped.reason


@pytest.mark.django_db
def test_skipped_ticks_show_in_the_report(viewer_client, councilor):
    start_run(councilor)
    councilor_tick(councilor.pk)
    councilor_tick(councilor.pk)

    report = viewer_client.get(f"/api/councilors/{councilor.pk}/reports/").json()

    assert report["skipped_ticks"] == 2
    assert [tick["outcome"] for tick in report["recent_ticks"]] == ["skipped", "skipped", "started"]
    assert report["total_runs"] == 1


@pytest.mark.django_db
def test_a_paused_councilor_skips_a_late_beat_tick(editor, councilor):
    services.councilor_pause(councilor=councilor, actor=editor)

    councilor_tick(councilor.pk)

    tick = CouncilorTick.objects.get()
    assert (tick.outcome, tick.skip_reason) == ("skipped", "paused")
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_execute_now_refuses_a_councilor_whose_agent_is_inactive(editor_client, councilor):
    agent = councilor.instance.agent
    agent.is_active = False
    agent.save()

    response = editor_client.post(f"/api/councilors/{councilor.pk}/execute-now/")

    assert_envelope(response, 409, "councilor_unavailable")
    assert not Run.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_racing_ticks_start_one_run(councilor, monkeypatch):
    # No worker here: the started run stays queued, which is what the race is about.
    monkeypatch.setattr("apps.runs.tasks.execute_run.delay", lambda run_id: None)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def tick() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(services.councilor_execute(councilor_id=councilor.pk).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["skipped", "started"]
    assert Run.objects.count() == 1
