from __future__ import annotations

from django.conf import settings

from apps.agents.models import Agent
from apps.portfolio.models import PortfolioSession


def portfolio_agent() -> Agent | None:
    """The active agent named by CONDUCTOR_PORTFOLIO_AGENT, if there is one."""
    slug = settings.CONDUCTOR_PORTFOLIO_AGENT
    return Agent.objects.filter(slug=slug, is_active=True).select_related("persona").first()


def portfolio_session_find(session_id: str) -> PortfolioSession | None:
    """The session, unless it is unknown or an editor deleted its conversation."""
    sessions = PortfolioSession.objects.select_related("conversation")
    return sessions.filter(pk=session_id, conversation__is_deleted=False).first()
