"""An execute tool's call: start a run, have it executed, report its events, return its outcome.

Where the run executes (``CONDUCTOR_MCP_RUN_INLINE``):

- inline (the default): this process executes it on a thread, through the Celery task's
  own body (``execute_run``: claim, heartbeat, the loop), exactly as ``POST /execute``
  does. An MCP call waits for its answer anyway, and a stdio server (or a standalone
  HTTP one) has no worker in the embedded default: the in-memory broker reaches only
  workers inside the same process.
- on the workers: ``run_start`` enqueues it as the API does and the call waits.

Either way the call follows the run's event log (``follow_run``, as SSE does), turns each
step into an MCP progress notification, and returns once the run ends, pauses for a
human's approval, or outlives its own timeout plus a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any, cast

import anyio
from channels.db import database_sync_to_async
from django.conf import settings
from mcp.server.mcpserver import Context

from apps.mcp.identity import as_user
from apps.mcp.schemas import RunOutcome
from apps.runs import events
from apps.runs.exceptions import RunNotCancellable
from apps.runs.models import Run
from apps.runs.services import run_cancel
from apps.runs.tasks import execute_run
from apps.runtime.providers import DEMO_MODEL
from apps.streams.follow import Envelope, follow_run

logger = logging.getLogger(__name__)

# The run ends itself at its timeout; the call waits this much longer for the end to land.
WAIT_GRACE_SECONDS = 15.0
# How long the follower waits on the channel layer before re-reading the log.
FOLLOW_IDLE_SECONDS = 2.0

_inline_runs: set[asyncio.Future[Any]] = set()


async def execute(
    ctx: Context[Any, Any], start: Callable[..., Run], /, **arguments: Any
) -> RunOutcome:
    """Starts the run with ``start(user=..., **arguments)`` and waits for its outcome."""
    run = await as_user(ctx, start, **arguments)
    if settings.CONDUCTOR_MCP_RUN_INLINE:
        _execute_inline(run)
    wait_seconds = run.timeout_seconds + WAIT_GRACE_SECONDS
    try:
        note = await _follow(ctx, run, wait_seconds)
    except asyncio.CancelledError:
        # The client cancelled the call: the run it started is not wanted any more.
        with anyio.CancelScope(shield=True):
            await as_user(ctx, _cancel, run_id=run.pk)
        raise
    return await database_sync_to_async(run_outcome)(run.pk, note)


def _execute_inline(run: Run) -> None:
    """Executes the run on a thread of its own; it finishes even if the call goes away."""
    execution = asyncio.ensure_future(
        database_sync_to_async(execute_run, thread_sensitive=False)(str(run.pk))
    )
    _inline_runs.add(execution)
    execution.add_done_callback(_inline_run_done)


def _inline_run_done(execution: asyncio.Future[Any]) -> None:
    _inline_runs.discard(execution)
    if not execution.cancelled() and execution.exception() is not None:
        logger.error("an inline MCP run crashed", exc_info=execution.exception())


async def _follow(ctx: Context[Any, Any], run: Run, wait_seconds: float) -> str:
    """Reports the run's events until it ends; a note when the wait ended first."""
    try:
        async with asyncio.timeout(wait_seconds):
            envelopes = follow_run(run.pk, 0, idle_seconds=FOLLOW_IDLE_SECONDS)
            async with aclosing(cast(AsyncGenerator[Envelope | None, None], envelopes)) as log:
                async for envelope in log:
                    if envelope is None:
                        continue
                    await _report(ctx, envelope)
                    if envelope["event"] == events.APPROVAL_REQUIRED:
                        return _waiting_for_approval(envelope)
    except TimeoutError:
        return f"Still running after {wait_seconds:.0f} s; the run goes on: look it up by run_id."
    return ""


def _waiting_for_approval(envelope: dict[str, Any]) -> str:
    tool = (envelope.get("data") or {}).get("tool", "a tool")
    return (
        f"The run waits for a staff member to approve its call of {tool} "
        "(admin or API); once decided it resumes on a Celery worker."
    )


def progress_message(envelope: dict[str, Any]) -> str | None:
    """One line about a run event for a progress notification; None for token deltas."""
    event, data = envelope["event"], envelope.get("data") or {}
    if event == events.LLM_DELTA:
        return None
    if event in events.TERMINAL_EVENTS:
        return f"{event}: {data.get('error') or data.get('status', '')}".rstrip(": ")
    detail = data.get("tool") or data.get("model") or data.get("status") or ""
    return f"{event} {detail}".strip()


async def _report(ctx: Context[Any, Any], envelope: dict[str, Any]) -> None:
    message = progress_message(envelope)
    if message is None:
        return
    try:
        # A no-op unless the client asked for progress (a progressToken in the call).
        await ctx.report_progress(envelope["id"], None, message)
    except Exception:  # the notification is a courtesy; the call goes on without it
        logger.debug("could not report progress of run %s", envelope["run_id"], exc_info=True)


def _cancel(*, user: Any, run_id: Any) -> None:
    run = Run.objects.filter(pk=run_id).first()
    if run is None:
        return
    with contextlib.suppress(RunNotCancellable):  # it finished meanwhile
        run_cancel(run=run, actor=user)


def run_outcome(run_id: Any, note: str = "") -> RunOutcome:
    run = Run.objects.select_related("agent").get(pk=run_id)
    return RunOutcome(
        run_id=str(run.pk),
        agent_id=run.agent.slug,
        status=run.status,
        finished=run.is_finished,
        result=run.result,
        error=run.error,
        duration_ms=run.duration_ms,
        conversation_id=run.conversation_id,
        model=run.model,
        offline_demo=run.model == DEMO_MODEL,
        total_tokens=run.total_tokens,
        cost_usd=str(run.cost_usd),
        note=note if not run.is_finished else "",
    )
