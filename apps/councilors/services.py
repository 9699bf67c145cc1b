"""Every write to a councilor: promote, configure, pause, resume, demote, execute.

A councilor and its django-celery-beat PeriodicTask change together, in one
transaction: no councilor without its task, no task without its councilor.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.agents.models import Agent
from apps.conversations.models import MESSAGE_MAX_CHARS, MessageStatus, MessageType
from apps.core.types import Actor, user_or_none
from apps.councilors import schedules, selectors
from apps.councilors.exceptions import CouncilorBusy, CouncilorUnavailable, InvalidPromotion
from apps.councilors.models import (
    Councilor,
    CouncilorTick,
    OutputFormat,
    SkipReason,
    TickOutcome,
    TickTrigger,
)
from apps.councilors.severity import MARKER_INSTRUCTION, severity_of, without_marker
from apps.runs.models import Run, RunSource, RunStatus
from apps.runs.services import INPUT_MAX_CHARS, RunRequest, run_start
from apps.screenplays.models import Screenplay
from apps.streams.broadcast import (
    COUNCILOR_COMPLETED,
    COUNCILOR_ERROR,
    COUNCILOR_STARTED,
    broadcast_councilor_event,
)

logger = logging.getLogger(__name__)

TICK_TASK = "councilors.tick"
CONFIG_FIELDS = (
    "title",
    "schedule_type",
    "schedule_value",
    "timezone",
    "enabled",
    "task_name",
    "task_prompt",
    "output_format",
    "notify_on_success",
    "notify_on_warning",
    "notify_on_error",
    "notify_channels",
    "display_name",
    "avatar_url",
    "color",
)
FORMAT_INSTRUCTIONS = {
    OutputFormat.SUMMARY: "Answer with a short summary: a few sentences.",
    OutputFormat.DETAILED: "Answer with a detailed report: findings, evidence and next steps.",
    OutputFormat.CHECKLIST: "Answer with a markdown checklist: one `- [ ]` or `- [x]` per item.",
}
# Room left in a run's input for the prompt and instructions around the screenplays.
CONTEXT_MARGIN = 12_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


# --- The PeriodicTask -----------------------------------------------------------


def _interval_row(schedule: schedules.Interval) -> IntervalSchedule:
    found = IntervalSchedule.objects.filter(every=schedule.every, period=schedule.period).first()
    return found or IntervalSchedule.objects.create(every=schedule.every, period=schedule.period)


def _crontab_row(schedule: schedules.Cron, tz_name: str) -> CrontabSchedule:
    fields = {name: getattr(schedule, name) for name in schedules.CRON_FIELDS}
    found = CrontabSchedule.objects.filter(timezone=tz_name, **fields).first()
    return found or CrontabSchedule.objects.create(timezone=tz_name, **fields)


def _drop_if_unused(*rows: IntervalSchedule | CrontabSchedule | None) -> None:
    """Deletes schedule rows no periodic task uses any more (they are shared, so check)."""
    for row in rows:
        if row is not None and not row.periodictask_set.exists():
            row.delete()


def _apply_schedule(task: PeriodicTask, councilor: Councilor) -> None:
    schedule = councilor.schedule
    if isinstance(schedule, schedules.Interval):
        task.interval, task.crontab = _interval_row(schedule), None
    else:
        task.interval, task.crontab = None, _crontab_row(schedule, councilor.timezone)


def _periodic_task_sync(councilor: Councilor) -> PeriodicTask:
    """Makes the councilor's PeriodicTask say what the councilor says; creates it if new."""
    task = councilor.periodic_task if councilor.periodic_task_id else PeriodicTask(task=TICK_TASK)
    old_rows = (task.interval, task.crontab) if task.pk else (None, None)
    _apply_schedule(task, councilor)
    task.name = f"councilor:{councilor.pk}" if councilor.pk else task.name or _provisional_name()
    task.args = json.dumps([councilor.pk] if councilor.pk else [])
    task.enabled = councilor.enabled
    task.description = f"Councilor {councilor.title!r}: {councilor.task_name}"[:500]
    task.save()
    _drop_if_unused(*(row for row in old_rows if row not in (task.interval, task.crontab)))
    return task


def _provisional_name() -> str:
    return f"councilor:new:{uuid.uuid4()}"


def _save(councilor: Councilor) -> Councilor:
    councilor.full_clean(exclude=["periodic_task"])
    councilor.save()
    return councilor


# --- Promote, configure, pause, resume, demote ----------------------------------------


def _working_directory(requested: str) -> str:
    return (
        requested
        or settings.CONDUCTOR_COUNCILOR_WORKING_DIRECTORY
        or str(settings.DATA_DIR / "councilors")
    )


def _screenplay_content(title: str, task_name: str) -> str:
    # The moment makes it unique: screenplays refuse a duplicate of another's content.
    promoted = timezone.now().strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    return (
        f"# {title}\n\nThe councilor's own screenplay. Its scheduled task: {task_name}.\n\n"
        f"Promoted to councilor on {promoted}.\n"
    )


def _check_promotable(agent: Agent, councilor: Councilor) -> None:
    if not agent.is_active:
        raise InvalidPromotion(f"The agent {agent.slug!r} is not active.")
    # Before anything is created: an invalid config fails here, not half-way.
    councilor.full_clean(exclude=["instance", "periodic_task"])


@transaction.atomic
def councilor_promote(
    *,
    agent: Agent,
    actor: Actor,
    context_screenplays: Iterable[Screenplay] = (),
    working_directory: str = "",
    **config: Any,
) -> Councilor:
    """Creates the screenplay, conversation, instance, councilor and PeriodicTask, or nothing."""
    from apps.conversations.services import conversation_create, conversation_update
    from apps.instances.services import instance_create
    from apps.screenplays.services import screenplay_create

    councilor = Councilor(**config)
    _check_promotable(agent, councilor)
    screenplay = screenplay_create(
        name=f"Councilor: {councilor.title}"[:200],
        content=_screenplay_content(councilor.title, councilor.task_name),
        tags=["councilor"],
        working_directory=_working_directory(working_directory),
    )
    conversation = conversation_create(
        actor=actor, title=f"Councilor: {councilor.title}"[:200], screenplay=screenplay
    )
    councilor.instance = instance_create(
        actor=actor, agent=agent, screenplay=screenplay, conversation=conversation
    )
    conversation_update(conversation=conversation, actor=actor, active_agent=councilor.instance)
    councilor.periodic_task = _periodic_task_sync(councilor)
    _save(councilor)
    councilor.context_screenplays.set(context_screenplays)
    _periodic_task_sync(councilor)  # now that the councilor has an id to pass
    return councilor


@transaction.atomic
def councilor_update(
    *,
    councilor: Councilor,
    actor: Actor,
    context_screenplays: Iterable[Screenplay] | None = None,
    **fields: Any,
) -> Councilor:
    """Changes the config; a schedule, zone or enabled change goes to the PeriodicTask too."""
    unknown = set(fields) - set(CONFIG_FIELDS)
    if unknown:
        raise ValueError(f"not councilor config: {sorted(unknown)}")
    councilor = (
        Councilor.objects.select_for_update(of=("self",))
        .select_related("periodic_task")
        .get(pk=councilor.pk)
    )
    for name, value in fields.items():
        setattr(councilor, name, value)
    _save(councilor)
    if context_screenplays is not None:
        councilor.context_screenplays.set(context_screenplays)
    _periodic_task_sync(councilor)
    return councilor


def councilor_pause(*, councilor: Councilor, actor: Actor) -> Councilor:
    return councilor_update(councilor=councilor, actor=actor, enabled=False)


def councilor_resume(*, councilor: Councilor, actor: Actor) -> Councilor:
    """The next run is measured from now: beat counts from the moment the task changed."""
    return councilor_update(councilor=councilor, actor=actor, enabled=True)


@transaction.atomic
def councilor_demote(*, councilor: Councilor, actor: Actor) -> dict[str, int | None]:
    """Removes the councilor, its ticks and its PeriodicTask.

    The instance, its conversation (with every report posted to it), its screenplay
    and its runs stay: they are history. Returns their ids.
    """
    councilor = (
        Councilor.objects.select_for_update(of=("self",))
        .select_related("instance")
        .get(pk=councilor.pk)
    )
    kept = {
        "instance": councilor.instance_id,
        "conversation": councilor.instance.conversation_id,
        "screenplay": councilor.instance.screenplay_id,
    }
    councilor.delete()  # post_delete takes its PeriodicTask with it
    return kept


def periodic_task_discard(periodic_task_id: int) -> None:
    """Deletes a (former) councilor's PeriodicTask and any schedule row left unused."""
    task = PeriodicTask.objects.filter(pk=periodic_task_id).first()
    if task is None:
        return
    rows = (task.interval, task.crontab)
    task.delete()
    _drop_if_unused(*rows)


# --- Executing ---------------------------------------------------------------------


def _context_section(councilor: Councilor, room: int) -> str:
    parts = []
    for screenplay in councilor.context_screenplays.order_by("name", "id"):
        parts.append(f"### Screenplay: {screenplay.name}\n\n{screenplay.content.strip()}\n")
    text = "\n".join(parts)
    if len(text) > room:
        text = text[:room].rstrip() + "\n\n[Context truncated.]\n"
    return f"## Context\n\n{text}\n" if text else ""


def councilor_input(councilor: Councilor) -> str:
    """The run's input: the task prompt, the context screenplays, then what to answer."""
    head = f"# Task: {councilor.task_name}\n\n{councilor.task_prompt.strip()}\n\n"
    tail = (
        f"## Answer format\n\n{FORMAT_INSTRUCTIONS[OutputFormat(councilor.output_format)]}\n"
        f"{MARKER_INSTRUCTION}\n"
    )
    room = INPUT_MAX_CHARS - CONTEXT_MARGIN - len(head) - len(tail)
    return head + _context_section(councilor, room) + tail


def _unavailable_reason(councilor: Councilor) -> str:
    instance = councilor.instance
    if instance.is_deleted:
        return "Its agent instance is deleted."
    if not instance.agent.is_active:
        return f"Its agent {instance.agent.slug!r} is not active."
    return ""


def _skip(
    councilor: Councilor, trigger: str, skip_reason: str, reason: str, actor: Actor
) -> CouncilorTick:
    logger.info("councilor %s tick skipped: %s", councilor.pk, reason)
    return CouncilorTick.objects.create(
        councilor=councilor,
        trigger=trigger,
        outcome=TickOutcome.SKIPPED,
        skip_reason=skip_reason,
        reason=reason[:300],
        requested_by=user_or_none(actor),
    )


def _start_run(councilor: Councilor, trigger: str, actor: Actor) -> CouncilorTick:
    instance = councilor.instance
    request = RunRequest(agent=instance.agent, input=councilor_input(councilor), instance=instance)
    # Unowned, like every councilor run: a shared team object, whoever pressed the button.
    run = run_start(request=request, actor=None, source=RunSource.COUNCILOR, enqueue=False)
    tick = CouncilorTick.objects.create(
        councilor=councilor,
        trigger=trigger,
        outcome=TickOutcome.STARTED,
        run=run,
        requested_by=user_or_none(actor),
    )
    payload = councilor_event_payload(councilor, run, trigger=trigger)
    run_id = str(run.pk)
    # Started goes out before the run is enqueued: an eager worker may finish it at once.
    transaction.on_commit(lambda: _announce_and_enqueue(payload, run_id))
    return tick


def _announce_and_enqueue(payload: dict[str, Any], run_id: str) -> None:
    from apps.runs.tasks import execute_run

    broadcast_councilor_event(COUNCILOR_STARTED, payload)
    execute_run.delay(run_id)


@transaction.atomic
def councilor_execute(
    *, councilor_id: int, trigger: str = TickTrigger.SCHEDULE, actor: Actor = None
) -> CouncilorTick:
    """Starts a run of the councilor, or records a skipped tick.

    Skipped when its previous run is still going (or it cannot run at all). The
    councilor row is locked first, so two ticks racing see each other's run.
    """
    councilor = (
        Councilor.objects.select_for_update(of=("self",))
        .select_related("instance__agent", "instance__conversation")
        .get(pk=councilor_id)
    )
    if trigger == TickTrigger.SCHEDULE and not councilor.enabled:
        return _skip(councilor, trigger, SkipReason.PAUSED, "The councilor is paused.", actor)
    reason = _unavailable_reason(councilor)
    if reason:
        return _skip(councilor, trigger, SkipReason.UNAVAILABLE, reason, actor)
    busy = selectors.councilor_active_run(councilor)
    if busy is not None:
        reason = f"Run {busy.pk} is still {busy.status}."
        return _skip(councilor, trigger, SkipReason.BUSY, reason, actor)
    return _start_run(councilor, trigger, actor)


def councilor_execute_now(*, councilor: Councilor, actor: Actor) -> CouncilorTick:
    """Runs it now, under the same overlap rule; the skip is recorded, then refused (409)."""
    tick = councilor_execute(councilor_id=councilor.pk, trigger=TickTrigger.MANUAL, actor=actor)
    if tick.outcome == TickOutcome.SKIPPED:
        unavailable = tick.skip_reason == SkipReason.UNAVAILABLE
        error = CouncilorUnavailable if unavailable else CouncilorBusy
        raise error(tick.reason, details={"tick": tick.pk, "skip_reason": tick.skip_reason})
    return tick


# --- When a councilor's run ends ------------------------------------------------------


def councilor_event_payload(
    councilor: Councilor, run: Run, *, trigger: str | None = None, severity: str | None = None
) -> dict[str, Any]:
    finished = run.is_finished
    return {
        "councilor_id": councilor.pk,
        "title": councilor.title,
        "display_name": councilor.name_shown,
        "avatar_url": councilor.avatar_url,
        "color": councilor.color,
        "task_name": councilor.task_name,
        "run_id": str(run.pk),
        "status": run.status,
        "severity": severity,
        "summary": selectors.summary_of(run.result or run.error) if finished else "",
        "trigger": trigger,
        "duration_ms": run.duration_ms,
        "notify": _should_notify(councilor, severity) if finished else False,
        "channels": list(councilor.notify_channels),
        "timestamp": timezone.now().isoformat(),
    }


def _should_notify(councilor: Councilor, severity: str | None) -> bool:
    wanted = {
        "info": councilor.notify_on_success,
        "warning": councilor.notify_on_warning,
        "error": councilor.notify_on_error,
    }
    return bool(wanted.get(severity or "", False))


def _message_text(text: str) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    return text[:MESSAGE_MAX_CHARS]


def _post_exchange(councilor: Councilor, run: Run) -> None:
    from apps.conversations.services import message_create

    conversation = councilor.instance.conversation
    if conversation is None or conversation.is_deleted:
        return
    succeeded = run.status == RunStatus.SUCCEEDED
    message_create(
        conversation=conversation,
        actor=None,
        type=MessageType.USER,
        content=_message_text(councilor.task_prompt),
        run=run,
    )
    answer = without_marker(run.result) if succeeded else run.error
    message_create(
        conversation=conversation,
        actor=None,
        type=MessageType.BOT,
        content=_message_text(answer) or run.status,
        status=MessageStatus.COMPLETED if succeeded else MessageStatus.ERROR,
        agent=run.agent,
        run=run,
    )


def councilor_run_finished(*, run: Run) -> None:
    """Sets the run's severity, posts the exchange to the conversation and announces the end.

    The instance's statistics are already counted by ``run_finish``.
    """
    if run.source != RunSource.COUNCILOR:
        return
    tick = (
        CouncilorTick.objects.select_related("councilor__instance__conversation")
        .filter(run=run)
        .first()
    )
    if tick is None:
        return
    councilor = tick.councilor
    severity = severity_of(run.status, run.result)
    with transaction.atomic():
        Run.objects.filter(pk=run.pk).update(severity=severity)
        run.severity = severity
        _post_exchange(councilor, run)
    name = COUNCILOR_COMPLETED if run.status == RunStatus.SUCCEEDED else COUNCILOR_ERROR
    payload = councilor_event_payload(councilor, run, trigger=tick.trigger, severity=severity)
    broadcast_councilor_event(name, payload)
