"""Every write to a run: its lifecycle, its steps and its event log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connections, models, transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.core.types import Actor, user_or_none
from apps.instances.models import AgentInstance
from apps.runs import events
from apps.runs.exceptions import (
    CwdRequired,
    InvalidRunRequest,
    RunNotCancellable,
    RunQueueUnavailable,
)
from apps.runs.models import (
    COUNTERS,
    TERMINAL_STATUSES,
    ContextMode,
    Run,
    RunEvent,
    RunSource,
    RunStatus,
    RunStep,
    Severity,
    execute_together,
    insert_statement,
)
from apps.runs.signals import run_finished
from apps.screenplays.models import Screenplay
from apps.streams.broadcast import (
    TASK_COMPLETED,
    TASK_ERROR,
    TASK_PICKED,
    TASK_STARTED,
    TASK_SUBMITTED,
    broadcast_task_event,
    broadcast_tool_summary,
)
from apps.streams.publish import publish

logger = logging.getLogger(__name__)

TERMINAL_EVENT_FOR = {
    RunStatus.SUCCEEDED: events.RUN_SUCCEEDED,
    RunStatus.FAILED: events.RUN_FAILED,
    RunStatus.CANCELLED: events.RUN_CANCELLED,
    RunStatus.TIMED_OUT: events.RUN_TIMED_OUT,
}
INPUT_MAX_CHARS = 100_000


# --- The event log ------------------------------------------------------------


def event_envelope(record: RunEvent) -> dict[str, Any]:
    return {
        "id": record.seq,
        "run_id": str(record.run_id),
        "event": record.event,
        "data": record.data,
        "timestamp": record.timestamp.isoformat(),
    }


def _publish(envelope: dict[str, Any], owner_id: int | None = None) -> None:
    message = {"type": events.LAYER_MESSAGE_TYPE, "envelope": envelope}
    try:
        publish(events.run_group(envelope["run_id"]), message)
    except Exception:
        # The log is the source of truth: streams replay what live delivery missed.
        logger.warning("could not publish %s for run %s", envelope["event"], envelope["run_id"])
    broadcast_tool_summary(envelope, audience=owner_id)


@dataclass(frozen=True)
class StepRecord:
    """A step to persist, and the event that reports it, if any."""

    kind: str
    payload: dict[str, Any]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    latency_ms: int | None = None
    event: str | None = None
    data: dict[str, Any] | None = None


Report = tuple[str, dict[str, Any] | None]  # an event and its data
APPEND_ATTEMPTS = 3


class _CountersMoved(Exception):
    """Someone else appended to the run's log or steps since ``run`` was read."""


def run_event_emit(run: Run, event: str, data: dict[str, Any] | None = None) -> RunEvent:
    """Appends an event to the run's log and publishes it once the transaction commits."""
    return _append(run, [], [(event, data)])[0]


def run_record_steps(
    *, run: Run, steps: list[StepRecord], rows: Sequence[models.Model] = ()
) -> None:
    """Persists steps in order with their events, adds their usage to the run's totals and
    inserts ``rows`` (unsaved rows of other logs, such as the tool audit trail) with them:
    one transaction, one round trip on PostgreSQL."""
    _append(run, steps, [(event, step.data) for step in steps if (event := step.event)], rows)


def _append(
    run: Run,
    steps: list[StepRecord],
    reports: list[Report],
    rows: Sequence[models.Model] = (),
) -> list[RunEvent]:
    """Writes steps and events numbered on from the counters ``run`` holds, with the run
    row's counters moved on in the same round trip.

    That update matches only while the counters still hold what ``run`` says: the process
    executing a run is in practice the only one writing to it, and when another one got
    in between, this starts over from fresh counters. Seqs and indexes stay 1..n with no
    gap; the unique constraints on (run, seq) and (run, index) stop anything else.
    """
    for _ in range(APPEND_ATTEMPTS - 1):
        try:
            return _append_once(run, steps, reports, rows)
        except (_CountersMoved, IntegrityError):
            fresh = Run.objects.filter(pk=run.pk).values_list(*COUNTERS)
            run.last_event_seq, run.last_step_index = fresh.get()
    return _append_once(run, steps, reports, rows)


def _append_once(
    run: Run, steps: list[StepRecord], reports: list[Report], rows: Sequence[models.Model]
) -> list[RunEvent]:
    with transaction.atomic():
        records = _write(run, steps, reports, rows)
    run.last_event_seq += len(records)
    run.last_step_index += len(steps)
    return records


def _write(
    run: Run, steps: list[StepRecord], reports: list[Report], rows: Sequence[models.Model]
) -> list[RunEvent]:
    seq, index = run.last_event_seq, run.last_step_index
    connection = connections[Run.objects.db]
    counters = Run.objects.counters_update(
        connection,
        run.pk,
        counters=(seq, index),
        to=(seq + len(reports), index + len(steps)),
        **_usage(steps),
    )
    records = [
        RunEvent(run_id=run.pk, seq=position, event=event, data=data or {})
        for position, (event, data) in enumerate(reports, start=seq + 1)
    ]
    step_rows = [
        _step_row(run, position, step) for position, step in enumerate(steps, start=index + 1)
    ]
    tables: list[Sequence[models.Model]] = [step_rows, records, *_by_model(rows)]
    statements = [counters] + [insert_statement(objs, connection) for objs in tables if objs]
    if execute_together(connection, statements) != 1:
        raise _CountersMoved()
    for record in records:
        _publish_on_commit(event_envelope(record), run.created_by_id)
    return records


def _by_model(rows: Sequence[models.Model]) -> list[list[models.Model]]:
    """``rows`` grouped by model, in the order each model first appears."""
    groups: dict[type[models.Model], list[models.Model]] = {}
    for row in rows:
        groups.setdefault(type(row), []).append(row)
    return list(groups.values())


def _publish_on_commit(envelope: dict[str, Any], owner_id: int | None) -> None:
    transaction.on_commit(lambda: _publish(envelope, owner_id))


def _usage(steps: list[StepRecord]) -> dict[str, Any]:
    prompt = sum(step.prompt_tokens for step in steps)
    completion = sum(step.completion_tokens for step in steps)
    cost = sum((step.cost_usd for step in steps), Decimal(0))
    if not (prompt or completion or cost):
        return {}
    totals = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost_usd": cost,
    }
    return {"add": totals, "heartbeat_at": timezone.now()}


def _step_row(run: Run, index: int, step: StepRecord) -> RunStep:
    return RunStep(
        run=run,
        index=index,
        kind=step.kind,
        payload=step.payload,
        prompt_tokens=step.prompt_tokens,
        completion_tokens=step.completion_tokens,
        cost_usd=step.cost_usd,
        latency_ms=step.latency_ms,
    )


# --- Starting -----------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    agent: Agent
    input: str
    instance: AgentInstance | None = None
    conversation: Conversation | None = None
    screenplay: Screenplay | None = None
    cwd: str = ""
    context_mode: str = ContextMode.STATELESS
    model: str = ""
    max_steps: int | None = None
    timeout_seconds: int | None = None
    max_cost_usd: Decimal | None = None
    max_tokens: int | None = None

    @classmethod
    def again(cls, run: Run) -> RunRequest:
        """The request that started ``run``, limits included: to run it again."""
        return cls(
            agent=run.agent,
            input=run.input,
            instance=run.instance,
            conversation=run.conversation,
            screenplay=run.screenplay,
            cwd=run.cwd,
            context_mode=run.context_mode,
            model=run.model,
            max_steps=run.max_steps,
            timeout_seconds=run.timeout_seconds,
            max_cost_usd=run.max_cost_usd,
            max_tokens=run.max_tokens,
        )


def _resolve_places(request: RunRequest) -> tuple[Conversation | None, Screenplay | None]:
    instance = request.instance
    if instance is not None and instance.agent_id != request.agent.pk:
        raise InvalidRunRequest("The instance is a placement of another agent.")
    conversation = request.conversation or (instance.conversation if instance else None)
    screenplay = (
        request.screenplay
        or (instance.screenplay if instance else None)
        or (conversation.screenplay if conversation else None)
    )
    if request.context_mode == ContextMode.CONTEXTUAL and conversation is None:
        raise InvalidRunRequest("A contextual run needs a conversation (or an instance in one).")
    return conversation, screenplay


def _resolve_cwd(request: RunRequest, screenplay: Screenplay | None) -> str:
    cwd = request.cwd or (request.instance.cwd if request.instance else "")
    cwd = cwd or (screenplay.working_directory if screenplay else "")
    if not cwd:
        raise CwdRequired()
    if not cwd.startswith("/"):
        raise InvalidRunRequest("cwd must be an absolute path.", details={"cwd": cwd})
    return cwd


def _validate_input(request: RunRequest) -> None:
    if not request.input.strip():
        raise InvalidRunRequest("The input is empty.")
    if len(request.input) > INPUT_MAX_CHARS:
        raise InvalidRunRequest(f"The input is longer than {INPUT_MAX_CHARS} characters.")
    if not request.agent.is_active:
        raise InvalidRunRequest(f"The agent {request.agent.slug!r} is not active.")


def _enqueue(run_id: str) -> None:
    """Sends the run to the workers once it is committed (a worker must find it queued).

    When the broker cannot take it, the run is withdrawn, events and feed entries with it,
    and the caller gets a 503: nothing is left queued that no worker will ever receive.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from apps.runs.tasks import execute_run

    try:
        execute_run.delay(run_id)
    except BrokerError as exc:
        logger.warning("could not enqueue run %s, withdrawing it: %s", run_id, exc)
        _withdraw(run_id)
        raise RunQueueUnavailable() from exc


@transaction.atomic
def _withdraw(run_id: str) -> None:
    from apps.activity.models import TaskEvent

    TaskEvent.objects.filter(run_id=run_id).delete()
    Run.objects.filter(pk=run_id).delete()


@transaction.atomic
def run_start(
    *,
    request: RunRequest,
    actor: Actor,
    source: str = RunSource.API,
    parent_run: Run | None = None,
    enqueue: bool = True,
) -> Run:
    """Validates, creates the run as queued, emits run.queued and enqueues it on commit.

    ``enqueue=False`` leaves the run for the caller to execute (a delegation runs
    its child inline, in the worker that is already executing the parent).
    Raises RunQueueUnavailable (503), when the transaction commits, if the broker is down.
    """
    _validate_input(request)
    conversation, screenplay = _resolve_places(request)
    agent = request.agent
    run = Run.objects.create(
        agent=agent,
        instance=request.instance,
        conversation=conversation,
        screenplay=screenplay,
        input=request.input,
        context_mode=request.context_mode,
        cwd=_resolve_cwd(request, screenplay),
        model=request.model or agent.model,
        max_steps=request.max_steps or agent.max_steps,
        timeout_seconds=request.timeout_seconds or settings.CONDUCTOR_RUN_TIMEOUT_SECONDS,
        max_cost_usd=request.max_cost_usd,
        max_tokens=request.max_tokens,
        source=source,
        created_by=user_or_none(actor),
        parent_run=parent_run,
        delegation_depth=parent_run.delegation_depth + 1 if parent_run else 0,
    )
    run_event_emit(run, events.RUN_QUEUED, {"agent": agent.slug, "model": run.model})
    broadcast_task_event(run, TASK_SUBMITTED)
    if enqueue:
        run_id = str(run.pk)
        transaction.on_commit(lambda: _enqueue(run_id))
    return run


# --- Lifecycle ----------------------------------------------------------------


@transaction.atomic
def run_claim(run_id: str) -> Run | None:
    """Moves a queued run to running; None when it already started, finished or is gone.

    A redelivered task finds the run no longer queued and does nothing.
    """
    now = timezone.now()
    claimed = Run.objects.filter(
        pk=run_id, status=RunStatus.QUEUED, cancel_requested_at__isnull=True
    ).update(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
    if not claimed:
        return None
    run = Run.objects.select_related("agent__persona", "screenplay", "conversation").get(pk=run_id)
    # Written first so that it is also published first on commit: watchers wait for it.
    run_event_emit(run, events.RUN_STARTED, {"model": run.model})
    broadcast_task_event(run, TASK_PICKED)
    broadcast_task_event(run, TASK_STARTED)
    return run


def run_heartbeat(run_id: str) -> None:
    Run.objects.filter(
        pk=run_id, status__in=[RunStatus.RUNNING, RunStatus.REQUIRES_APPROVAL]
    ).update(heartbeat_at=timezone.now())


def run_cancel_requested(run_id: str) -> bool:
    return Run.objects.filter(pk=run_id, cancel_requested_at__isnull=False).exists()


@transaction.atomic
def run_cancel(*, run: Run, actor: Actor) -> Run:
    """Cancels a queued run at once; asks a running one to stop at its next check."""
    now = timezone.now()
    if Run.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(cancel_requested_at=now):
        return run_finish(run=run, status=RunStatus.CANCELLED, error="Cancelled before it started.")
    # A run waiting for approval has no loop to notice a request: end it here.
    waiting = Run.objects.filter(pk=run.pk, status=RunStatus.REQUIRES_APPROVAL)
    if waiting.update(cancel_requested_at=now):
        return run_finish(run=run, status=RunStatus.CANCELLED, error="Cancelled while waiting.")
    requested = Run.objects.filter(pk=run.pk).exclude(status__in=TERMINAL_STATUSES)
    if not requested.update(cancel_requested_at=now):
        raise RunNotCancellable(details={"status": Run.objects.get(pk=run.pk).status})
    run.refresh_from_db()
    return run


def _post_to_conversation(run: Run) -> None:
    from apps.conversations.models import MessageStatus, MessageType
    from apps.conversations.services import message_create

    conversation = run.conversation
    if conversation is None or run.context_mode != ContextMode.CONTEXTUAL:
        return
    message_create(
        conversation=conversation,
        actor=run.created_by,
        type=MessageType.USER,
        content=run.input,
        run=run,
    )
    failed = run.status != RunStatus.SUCCEEDED
    message_create(
        conversation=conversation,
        actor=None,
        type=MessageType.BOT,
        content=(run.error if failed else run.result) or run.status,
        status=MessageStatus.ERROR if failed else MessageStatus.COMPLETED,
        agent=run.agent,
        run=run,
    )


@transaction.atomic
def run_finish(
    *,
    run: Run,
    status: str,
    result: str = "",
    error: str = "",
    severity: str | None = None,
) -> Run:
    """Ends the run once: later calls for a finished run change nothing."""
    from apps.instances.services import instance_record_run

    now = timezone.now()
    live = Run.objects.select_for_update().filter(pk=run.pk).exclude(status__in=TERMINAL_STATUSES)
    times = live.values_list("started_at", "created_at").first()
    if times is None:
        run.refresh_from_db()
        return run
    started = times[0] or times[1]
    duration_ms = max(0, int((now - started).total_seconds() * 1000))
    severity = severity or (Severity.INFO if status == RunStatus.SUCCEEDED else Severity.ERROR)
    live.update(
        status=status,
        result=result,
        error=error,
        severity=severity,
        finished_at=now,
        duration_ms=duration_ms,
    )
    run.refresh_from_db()
    data = {"status": status, "result": result, "error": error, "duration_ms": duration_ms}
    run_event_emit(run, TERMINAL_EVENT_FOR[RunStatus(status)], data)
    broadcast_task_event(run, TASK_COMPLETED if status == RunStatus.SUCCEEDED else TASK_ERROR)
    _post_to_conversation(run)
    if run.instance_id is not None:
        instance_record_run(
            instance_id=run.instance_id, exit_status=status, duration_ms=duration_ms
        )
    transaction.on_commit(lambda: _announce_finished(run.pk))
    return run


def _announce_finished(run_id: Any) -> None:
    """Sends run_finished; a failing receiver is logged, and the others still hear it."""
    run = Run.objects.select_related("agent").filter(pk=run_id).first()
    if run is None:  # deleted in the meantime: nothing left to announce
        return
    for receiver, outcome in run_finished.send_robust(sender=Run, run=run):
        if isinstance(outcome, Exception):
            logger.error("run_finished receiver %r failed", receiver, exc_info=outcome)


def run_reap_stale(*, older_than: timedelta | None = None) -> int:
    """Fails runs whose worker stopped sending heartbeats ("worker lost")."""
    limit = older_than or timedelta(seconds=settings.CONDUCTOR_RUN_STALE_AFTER_SECONDS)
    cutoff = timezone.now() - limit
    # A run waiting for approval holds no worker and sends no heartbeat: not stale.
    stale = Run.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff)
    reaped = 0
    for run in stale:
        run_finish(run=run, status=RunStatus.FAILED, error="worker lost")
        reaped += 1
    if reaped:
        logger.warning("reaped %d run(s) whose worker was lost", reaped)
    return reaped
