"""apps.runs' run_finished: sent once, after commit, when a run reaches a terminal status."""

import pytest
from django.db import transaction

from apps.runs.models import RunStatus
from apps.runs.services import run_cancel, run_finish
from apps.runs.signals import run_finished
from tests.factories import RunFactory


@pytest.fixture
def heard():
    received = []

    def listen(sender, run, **kwargs):
        received.append((str(run.pk), run.status))

    run_finished.connect(listen)
    yield received
    run_finished.disconnect(listen)


@pytest.mark.django_db(transaction=True)
def test_it_is_sent_once_when_a_run_finishes(heard):
    run = RunFactory(status=RunStatus.RUNNING)

    run_finish(run=run, status=RunStatus.SUCCEEDED, result="done")
    run_finish(run=run, status=RunStatus.FAILED, error="again")

    assert heard == [(str(run.pk), "succeeded")]


@pytest.mark.django_db(transaction=True)
def test_it_waits_for_the_commit_and_a_rollback_sends_nothing(heard):
    run = RunFactory(status=RunStatus.RUNNING)
    heard_before_commit = []

    def finish_then_roll_back() -> None:
        with transaction.atomic():
            run_finish(run=run, status=RunStatus.SUCCEEDED)
            heard_before_commit.extend(heard)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        finish_then_roll_back()

    assert heard_before_commit == []
    assert heard == []


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_queued_run_is_announced(heard, editor):
    run = RunFactory(status=RunStatus.QUEUED)

    run_cancel(run=run, actor=editor)

    assert heard == [(str(run.pk), "cancelled")]


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_does_not_stop_the_others(heard):
    def broken(sender, run, **kwargs):
        raise RuntimeError("receiver bug")

    run_finished.connect(broken)
    try:
        run = RunFactory(status=RunStatus.RUNNING)
        run_finish(run=run, status=RunStatus.SUCCEEDED)
    finally:
        run_finished.disconnect(broken)

    assert heard == [(str(run.pk), "succeeded")]
