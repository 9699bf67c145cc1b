"""A prefork worker's database connections around tasks: handed back, not thrown away."""

from types import SimpleNamespace

import pytest
from celery import signals
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup
from django.db import connection

from conductor_site.celery import POOL_REUSE_TASKS
from conductor_site.celery import app as celery_app

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PREFORK = SimpleNamespace(pool_cls="celery.concurrency.prefork:TaskPool")


@pytest.fixture
def worker_fixup(monkeypatch):
    """Celery's Django fixup as a prefork worker installs it (its task hooks only)."""
    if getattr(connection, "pool", None) is None:
        pytest.skip("the database under test has no connection pool (set DATABASE_URL)")
    fixup = DjangoWorkerFixup(celery_app)
    fixup.worker = PREFORK
    django_fixup = next(f for f in celery_app._fixups if isinstance(f, DjangoFixup))
    monkeypatch.setattr(django_fixup, "_worker_fixup", fixup, raising=False)
    hooks = [
        (signals.task_prerun, fixup.on_task_prerun),
        (signals.task_postrun, fixup.on_task_postrun),
    ]
    for signal, receiver in hooks:
        signal.connect(receiver)
    yield fixup
    for signal, receiver in hooks:
        signal.disconnect(receiver)


class QueuedTask:
    """What the hooks look at: a task that came through the broker, not an eager call."""

    request = SimpleNamespace(is_eager=False)


def run_a_task() -> None:
    task = QueuedTask()
    signals.task_prerun.send(sender=task, task_id="t", task=task, args=(), kwargs={})
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    signals.task_postrun.send(sender=task, task_id="t", task=task, args=(), kwargs={})


def test_a_prefork_child_keeps_its_pool_and_hands_connections_back(worker_fixup, monkeypatch):
    child = SimpleNamespace(name="ForkPoolWorker-1")
    monkeypatch.setattr("conductor_site.celery.current_process", lambda: child)
    signals.worker_process_init.send(sender=None)
    pool = connection.pool

    for _ in range(3):
        run_a_task()
        # Back in the pool after each task, not held by the worker between tasks.
        assert connection.connection is None

    # The same pool throughout: no new PostgreSQL connections for every task.
    assert connection.pool is pool
    assert not pool.closed
    assert worker_fixup.db_reuse_max == POOL_REUSE_TASKS


def test_a_solo_worker_keeps_the_fixups_default(worker_fixup):
    """The solo pool sends worker_process_init in the main process: left alone there.
    That default is what the child's hook is for: a new pool for every task."""
    signals.worker_process_init.send(sender=None)
    pool = connection.pool

    run_a_task()

    assert connection.pool is not pool
    assert pool.closed
