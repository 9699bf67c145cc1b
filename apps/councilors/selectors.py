"""Reads about councilors: their active run, next run time, reports and beat's jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.councilors import schedules
from apps.councilors.models import Councilor, CouncilorTick, TickOutcome
from apps.councilors.severity import without_marker
from apps.runs.models import Run, RunStatus

BUSY_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.REQUIRES_APPROVAL)
SUMMARY_CHARS = 300


def councilor_runs(councilor: Councilor) -> QuerySet[Run]:
    """Every run a tick of this councilor started, newest first."""
    return Run.objects.filter(councilor_ticks__councilor=councilor).order_by("-created_at")


def councilor_active_run(councilor: Councilor) -> Run | None:
    """The councilor's run that is still going (queued, running or waiting), if any."""
    return councilor_runs(councilor).filter(status__in=BUSY_STATUSES).first()


def councilors_with_details() -> QuerySet[Councilor]:
    """What a listing shows, in constant queries; ``last_severity`` of the last finished run."""
    last_finished = Run.objects.filter(
        councilor_ticks__councilor=OuterRef("pk"), finished_at__isnull=False
    ).order_by("-finished_at")
    return (
        Councilor.objects.select_related(
            "instance__agent",
            "instance__conversation",
            "periodic_task__interval",
            "periodic_task__crontab",
        )
        .prefetch_related("context_screenplays")
        .annotate(last_severity=Subquery(last_finished.values("severity")[:1]))
    )


def councilor_next_run_at(councilor: Councilor, *, now: datetime | None = None) -> datetime | None:
    """When beat will next start it; None while paused.

    Measured as beat measures: from the task's last run, else from when its row last
    changed (created, rescheduled or resumed).
    """
    task = councilor.periodic_task
    if not councilor.enabled or not task.enabled:
        return None
    now = now or timezone.now()
    base = task.last_run_at or task.date_changed or now
    return schedules.next_run_time(
        councilor.schedule, councilor.timezone, last_run_at=base, now=now
    )


class RunSummary(TypedDict):
    id: str
    status: str
    severity: str
    summary: str
    created_at: datetime
    finished_at: datetime | None
    duration_ms: int | None


class TickSummary(TypedDict):
    id: int
    trigger: str
    outcome: str
    reason: str
    run_id: str | None
    created_at: datetime


def summary_of(text: str) -> str:
    text = " ".join(without_marker(text).split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def run_summary(run: Run) -> RunSummary:
    return RunSummary(
        id=str(run.pk),
        status=run.status,
        severity=run.severity,
        summary=summary_of(run.error if run.status == RunStatus.FAILED else run.result),
        created_at=run.created_at,
        finished_at=run.finished_at,
        duration_ms=run.duration_ms,
    )


def tick_summary(tick: CouncilorTick) -> TickSummary:
    return TickSummary(
        id=tick.pk,
        trigger=tick.trigger,
        outcome=tick.outcome,
        reason=tick.reason,
        run_id=str(tick.run_id) if tick.run_id else None,
        created_at=tick.created_at,
    )


def councilor_report(councilor: Councilor, *, now: datetime | None = None) -> dict[str, Any]:
    """``{recent_runs, total_runs, success_rate, last_run, next_run_at, ...}``.

    ``success_rate`` counts finished runs only (None before the first one finishes).
    """
    limit = settings.CONDUCTOR_COUNCILOR_REPORT_RUNS
    runs = councilor_runs(councilor)
    recent = [run_summary(run) for run in runs[:limit]]
    finished = runs.filter(finished_at__isnull=False)
    finished_count = finished.count()
    succeeded = finished.filter(status=RunStatus.SUCCEEDED).count()
    ticks = CouncilorTick.objects.filter(councilor=councilor)
    return {
        "recent_runs": recent,
        "total_runs": runs.count(),
        "success_rate": round(succeeded / finished_count, 4) if finished_count else None,
        "last_run": recent[0] if recent else None,
        "next_run_at": councilor_next_run_at(councilor, now=now),
        "skipped_ticks": ticks.filter(outcome=TickOutcome.SKIPPED).count(),
        "recent_ticks": [tick_summary(tick) for tick in ticks[:limit]],
    }


def scheduler_jobs(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """What beat will run: every enabled councilor's periodic task, soonest first."""
    now = now or timezone.now()
    councilors = councilors_with_details().filter(enabled=True, periodic_task__enabled=True)
    jobs = [_job(councilor, now) for councilor in councilors]
    return sorted(jobs, key=lambda job: (job["next_run_at"], job["councilor_id"]))


def _job(councilor: Councilor, now: datetime) -> dict[str, Any]:
    task = councilor.periodic_task
    return {
        "councilor_id": councilor.pk,
        "title": councilor.title,
        "periodic_task": task.name,
        "task": task.task,
        "schedule": schedules.describe(councilor.schedule),
        "schedule_type": councilor.schedule_type,
        "schedule_value": councilor.schedule_value,
        "timezone": councilor.timezone,
        "last_run_at": task.last_run_at,
        "total_run_count": task.total_run_count,
        "next_run_at": councilor_next_run_at(councilor, now=now),
    }
