import os

from billiard.process import current_process
from celery import Celery, Task, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")

app = Celery("conductor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks between two closings of a prefork child's connection pool (see below).
POOL_REUSE_TASKS = 500


@signals.worker_process_init.connect
def _reuse_the_pool(**kwargs: object) -> None:
    """Keeps a prefork child's psycopg pool open from one task to the next.

    Celery's Django fixup otherwise closes the child's whole pool before and after every
    task, so each run opened new PostgreSQL connections before it could start (10-15 ms
    of its start latency, bench/start_latency.py). Its ``db_reuse_max`` (read once, from
    ``CELERY_DB_REUSE_MAX``, in the parent) is raised here, in the child only: thread and
    solo pools (the same process) keep the fixup's default.
    The fixup still closes what the child inherited at fork, and
    :func:`_release_connections` hands connections back to the pool after each task.
    """
    if current_process().name == "MainProcess":  # the solo pool sends this signal too
        return
    for fixup in getattr(app, "_fixups", None) or ():
        worker_fixup = getattr(fixup, "_worker_fixup", None)
        if worker_fixup is not None:
            worker_fixup.db_reuse_max = POOL_REUSE_TASKS


@signals.task_prerun.connect
@signals.task_postrun.connect
def _release_connections(sender: Task | None = None, **kwargs: object) -> None:
    """Hands a worker task's database connections back (to the pool, on PostgreSQL),
    dropping broken ones: what Django does around a request. An eager task runs inside
    its caller, whose connection it leaves alone."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
