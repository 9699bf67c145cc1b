"""Every write to a run: its lifecycle, its steps and its event log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Conversation
from apps.core.types import Actor
from apps.instances.models import AgentInstance
from apps.runs import events
from apps.runs.exceptions import CwdRequired, InvalidRunRequest, RunNotCancellable
from apps.runs.models import (
    TERMINAL_STATUSES,
    ContextMode,
    Run,
    RunEvent,
    RunSource,
    RunStatus,
    RunStep,
    Severity,
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
from apps.streams.publish import group_send

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
        group_send(events.run_group(envelope["run_id"]), message)
    except Exception:
        # The log is the source of truth: streams replay what live delivery missed.
        logger.warning("could not publish %s for run %s", envelope["event"], envelope["run_id"])
    broadcast_tool_summary(envelope, audience=owner_id)


def run_event_emit(run: Run, event: str, data: dict[str, Any] | None = None) -> RunEvent:
    """Appends an event to the run's log and publishes it once the transaction commits.

    The seq comes from the run row, incremented under its lock: seqs are 1..n with
    no gap, whichever process emits.
    """
    with transaction.atomic():
        Run.objects.filter(pk=run.pk).update(last_event_seq=F("last_event_seq") + 1)
        seq = Run.objects.filter(pk=run.pk).values_list("last_event_seq", flat=True).get()
        record = RunEvent.objects.create(run_id=run.pk, seq=seq, event=event, data=data or {})
        envelope = event_envelope(record)
        owner_id = run.created_by_id
        transaction.on_commit(lambda: _publish(envelope, owner_id))
    run.last_event_seq = seq
    return record


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


def _user_or_none(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def _enqueue(run_id: str) -> None:
    from apps.runs.tasks import execute_run

    execute_run.delay(run_id)


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
        created_by=_user_or_none(actor),
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
    broadcast_task_event(run, TASK_PICKED)
    run_event_emit(run, events.RUN_STARTED, {"model": run.model})
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


def run_record_step(
    *,
    run: Run,
    kind: str,
    payload: dict[str, Any],
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: Decimal = Decimal(0),
    latency_ms: int | None = None,
) -> RunStep:
    """Persists one step and adds its usage to the run's totals."""
    with transaction.atomic():
        index = RunStep.objects.filter(run=run).count() + 1
        step = RunStep.objects.create(
            run=run,
            index=index,
            kind=kind,
            payload=payload,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost_usd,
            latency_ms=latency_ms,
        )
        if prompt_tokens or completion_tokens or cost_usd:
            Run.objects.filter(pk=run.pk).update(
                prompt_tokens=F("prompt_tokens") + prompt_tokens,
                completion_tokens=F("completion_tokens") + completion_tokens,
                total_tokens=F("total_tokens") + prompt_tokens + completion_tokens,
                cost_usd=F("cost_usd") + cost_usd,
                heartbeat_at=timezone.now(),
            )
    return step


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
    current = live.first()
    if current is None:
        run.refresh_from_db()
        return run
    started = current.started_at or current.created_at
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
