"""The public portfolio chat: one visitor's session, and one answer per message."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.services import conversation_create, message_set_hidden
from apps.portfolio import selectors
from apps.portfolio.exceptions import (
    PortfolioAnswerFailed,
    PortfolioAnswerTimedOut,
    PortfolioNotConfigured,
    PortfolioSessionNotFound,
)
from apps.portfolio.models import PortfolioSession
from apps.runs.models import ContextMode, Run, RunSource, RunStatus
from apps.runs.services import RunRequest, run_cancel, run_start
from apps.runs.tasks import execute_run

logger = logging.getLogger(__name__)

SESSION_ID_BYTES = 32
# What secrets.token_urlsafe(SESSION_ID_BYTES) produces: 43 URL-safe base64 characters.
SESSION_ID_RE = re.compile(r"^[A-Za-z0-9_-]{43}\Z")
SESSION_TITLE = "Portfolio chat"


@dataclass(frozen=True)
class PortfolioReply:
    response: str
    session_id: str


def portfolio_cwd() -> str:
    """CONDUCTOR_PORTFOLIO_CWD, else an empty directory of our own under the data dir."""
    if settings.CONDUCTOR_PORTFOLIO_CWD:
        return str(settings.CONDUCTOR_PORTFOLIO_CWD)
    path = Path(settings.DATA_DIR) / "portfolio"
    path.mkdir(parents=True, exist_ok=True)
    return str(path.resolve())


@transaction.atomic
def portfolio_session_start() -> PortfolioSession:
    conversation = conversation_create(actor=None, title=SESSION_TITLE)
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    return PortfolioSession.objects.create(id=session_id, conversation=conversation)


def portfolio_session_resume(*, session_id: str) -> PortfolioSession:
    session = selectors.portfolio_session_find(session_id)
    if session is None:
        raise PortfolioSessionNotFound()
    session.last_used_at = timezone.now()
    session.save(update_fields=["last_used_at"])
    return session


def _configured_agent() -> Agent:
    agent = selectors.portfolio_agent()
    if agent is None:
        raise PortfolioNotConfigured()
    return agent


def _run_to_the_end(agent: Agent, session: PortfolioSession, message: str) -> Run:
    request = RunRequest(
        agent=agent,
        input=message,
        conversation=session.conversation,
        cwd=portfolio_cwd(),
        context_mode=ContextMode.CONTEXTUAL,
        timeout_seconds=settings.CONDUCTOR_PORTFOLIO_TIMEOUT_SECONDS,
    )
    run = run_start(request=request, actor=None, source=RunSource.PORTFOLIO, enqueue=False)
    execute_run(str(run.pk))  # the task body, inside this request, as /execute does
    run.refresh_from_db()
    if run.status == RunStatus.REQUIRES_APPROVAL:
        # Nobody approves a visitor's tool call: the chat cannot wait for one.
        run = run_cancel(run=run, actor=None)
    return run


def _forget_failed_exchange(run: Run) -> None:
    """Hides the run's messages: later turns must not show the model (or the visitor)
    an internal error text."""
    for message in run.messages.all():
        message_set_hidden(message=message, hidden=True, actor=None)


def _reply(run: Run, session: PortfolioSession) -> PortfolioReply:
    if run.status == RunStatus.SUCCEEDED:
        return PortfolioReply(response=run.result, session_id=session.pk)
    logger.warning("portfolio run %s ended %s: %s", run.pk, run.status, run.error)
    _forget_failed_exchange(run)
    details = {"session_id": session.pk}
    if run.status == RunStatus.TIMED_OUT:
        raise PortfolioAnswerTimedOut(details=details)
    raise PortfolioAnswerFailed(details=details)


def portfolio_chat(*, message: str, session_id: str | None = None) -> PortfolioReply:
    """Answers ``message`` in the session's conversation; no session_id starts a session.

    Raises PortfolioNotConfigured, PortfolioSessionNotFound, PortfolioAnswerFailed or
    PortfolioAnswerTimedOut (the last two carry the session id, to try again in it).
    """
    agent = _configured_agent()
    if session_id:
        session = portfolio_session_resume(session_id=session_id)
    else:
        session = portfolio_session_start()
    run = _run_to_the_end(agent, session, message)
    return _reply(run, session)
