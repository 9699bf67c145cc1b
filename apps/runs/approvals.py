"""Human approval of tool calls: pausing a run, deciding, expiring and resuming.

A run that waits holds no worker: the task that hit the approval ends, and a new
task resumes the run from its checkpoint once the approval is decided or expires.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.types import Actor
from apps.runs import events
from apps.runs.exceptions import ApprovalAlreadyResolved, ApprovalExpired
from apps.runs.models import Approval, ApprovalStatus, Run, RunStatus, RunStepKind
from apps.runs.services import StepRecord, run_event_emit, run_record_steps
from apps.runtime.llm import ToolCall

DECISIONS = {"approve": ApprovalStatus.APPROVED, "deny": ApprovalStatus.DENIED}


def call_to_json(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "name": call.name,
        "arguments": call.arguments,
        "raw_arguments": call.raw_arguments,
    }


def call_from_json(data: dict[str, Any]) -> ToolCall:
    return ToolCall(data["id"], data["name"], data["arguments"], data["raw_arguments"])


def _approval_event(approval: Approval) -> dict[str, Any]:
    return {
        "approval_id": str(approval.pk),
        "tool": approval.tool,
        "arguments": approval.arguments,
        "status": approval.status,
        "expires_at": approval.expires_at.isoformat() if approval.expires_at else None,
    }


@transaction.atomic
def approval_request(*, run: Run, call: ToolCall, checkpoint: dict[str, Any]) -> Approval:
    """Stores the pending approval and the loop's checkpoint; the run waits."""
    ttl = timedelta(seconds=settings.CONDUCTOR_APPROVAL_TTL_SECONDS)
    approval = Approval.objects.create(
        run=run,
        tool=call.name,
        arguments=call.arguments or {},
        call_id=call.id,
        expires_at=timezone.now() + ttl,
    )
    Run.objects.filter(pk=run.pk).update(status=RunStatus.REQUIRES_APPROVAL, checkpoint=checkpoint)
    reported = _approval_event(approval)
    step = StepRecord(
        kind=RunStepKind.APPROVAL, payload=reported, event=events.APPROVAL_REQUIRED, data=reported
    )
    run_record_steps(run=run, steps=[step])
    return approval


def approval_record_pre_approved(*, run: Run, call: ToolCall) -> Approval:
    """A call the agent's config pre-approves: recorded, visible, not waited for."""
    now = timezone.now()
    return Approval.objects.create(
        run=run,
        tool=call.name,
        arguments=call.arguments or {},
        call_id=call.id,
        status=ApprovalStatus.PRE_APPROVED,
        requested_at=now,
        resolved_at=now,
        reason="pre-approved in the agent's config",
    )


def _enqueue_resume(run_id: str) -> None:
    from apps.runs.tasks import resume_run

    resume_run.delay(run_id)


def _settle(approval: Approval, status: str, reason: str, actor: Actor) -> Approval:
    approval.status = status
    approval.reason = reason
    approval.resolved_at = timezone.now()
    approval.resolved_by = actor if actor is not None and actor.is_authenticated else None  # type: ignore[assignment]
    approval.save(update_fields=["status", "reason", "resolved_at", "resolved_by"])
    data = {**_approval_event(approval), "decision": status, "reason": reason}
    run_event_emit(approval.run, events.APPROVAL_RESOLVED, data)
    run_id = str(approval.run_id)
    transaction.on_commit(lambda: _enqueue_resume(run_id))
    return approval


@transaction.atomic
def _decide(approval: Approval, decision: str, reason: str, actor: Actor) -> tuple[Approval, bool]:
    locked = Approval.objects.select_for_update().select_related("run").get(pk=approval.pk)
    if locked.run.is_finished:
        raise ApprovalAlreadyResolved(
            "The run has already finished.", details={"status": locked.status}
        )
    if locked.is_pending and locked.expires_at is not None and locked.expires_at <= timezone.now():
        return _settle(locked, ApprovalStatus.EXPIRED, "the approval expired", None), True
    if not locked.is_pending:
        raise ApprovalAlreadyResolved(details={"status": locked.status})
    return _settle(locked, DECISIONS[decision], reason, actor), False


def approval_resolve(*, approval: Approval, decision: str, reason: str, actor: Actor) -> Approval:
    """Approves or denies a pending approval; the run resumes in a new task.

    A decision that comes after the approval expired is refused (409); the expiry
    itself is committed first, so the run goes on as if denied.
    """
    decided, expired = _decide(approval, decision, reason, actor)
    if expired:
        raise ApprovalExpired()
    return decided


def approvals_expire() -> int:
    """Pending approvals past their time count as denied; their runs resume."""
    expired = 0
    due = Approval.objects.filter(status=ApprovalStatus.PENDING, expires_at__lte=timezone.now())
    for approval in due.select_related("run"):
        with transaction.atomic():
            if Approval.objects.filter(pk=approval.pk, status=ApprovalStatus.PENDING).exists():
                _settle(approval, ApprovalStatus.EXPIRED, "the approval expired", None)
                expired += 1
    return expired


def run_claim_for_resume(run_id: str) -> tuple[Run, Approval] | None:
    """Moves a run whose approval was decided back to running; None if nothing to resume."""
    approval = (
        Approval.objects.filter(run_id=run_id)
        .exclude(status=ApprovalStatus.PRE_APPROVED)
        .order_by("-requested_at")
        .first()
    )
    if approval is None or approval.is_pending:
        return None
    now = timezone.now()
    claimed = Run.objects.filter(
        pk=run_id, status=RunStatus.REQUIRES_APPROVAL, cancel_requested_at__isnull=True
    ).update(status=RunStatus.RUNNING, heartbeat_at=now)
    if not claimed:
        return None
    run = Run.objects.select_related("agent__persona", "screenplay", "conversation").get(pk=run_id)
    return run, approval
