import threading

import pytest
from django.db import close_old_connections, connection

from apps.instances.models import AgentInstance, InstanceStatus
from apps.instances.services import instance_record_run
from tests.factories import AgentInstanceFactory

RUNS_PER_THREAD = 25


def test_a_finished_run_updates_every_statistic(db):
    instance = AgentInstanceFactory()

    instance_record_run(instance_id=instance.pk, exit_status="succeeded", duration_ms=1200)
    instance_record_run(instance_id=instance.pk, exit_status="failed", duration_ms=800)

    instance.refresh_from_db()
    assert (instance.task_count, instance.success_count, instance.error_count) == (2, 1, 1)
    assert instance.total_duration_ms == 2000
    assert instance.average_duration_ms == 1000
    assert instance.last_duration_ms == 800
    assert instance.last_exit_status == "failed"
    assert instance.last_completed_at is not None
    assert instance.success_rate == 0.5
    assert instance.status == InstanceStatus.ERROR


def test_an_instance_without_runs_has_no_rates(db):
    instance = AgentInstanceFactory()

    assert instance.success_rate is None
    assert instance.average_duration_ms is None


def finish_runs_at_once(instance_id: int, outcomes: list[str]) -> list[BaseException]:
    barrier = threading.Barrier(len(outcomes))
    errors: list[BaseException] = []

    def finish(exit_status: str) -> None:
        try:
            barrier.wait()
            for _ in range(RUNS_PER_THREAD):
                instance_record_run(
                    instance_id=instance_id, exit_status=exit_status, duration_ms=10
                )
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=finish, args=(outcome,)) for outcome in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def assert_no_update_lost(instance: AgentInstance) -> None:
    instance.refresh_from_db()
    assert instance.task_count == 2 * RUNS_PER_THREAD
    assert (instance.success_count, instance.error_count) == (RUNS_PER_THREAD, RUNS_PER_THREAD)
    assert instance.total_duration_ms == 2 * RUNS_PER_THREAD * 10


@pytest.mark.django_db(transaction=True)
def test_two_runs_finishing_at_once_lose_no_update():
    instance = AgentInstanceFactory()

    errors = finish_runs_at_once(instance.pk, ["succeeded", "failed"])

    assert errors == []
    assert_no_update_lost(instance)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_finishing_at_once_lose_no_update_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the database under test is not PostgreSQL (set DATABASE_URL)")
    instance = AgentInstanceFactory()

    errors = finish_runs_at_once(instance.pk, ["succeeded", "failed"])

    assert errors == []
    assert_no_update_lost(instance)
