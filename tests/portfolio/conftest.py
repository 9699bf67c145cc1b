from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import AgentFactory
from tests.runs.conftest import NATIVE_MODEL

CHAT = "/api/portfolio/chat/"


@pytest.fixture
def portfolio_agent(db, settings):
    settings.CONDUCTOR_PORTFOLIO_AGENT = "portfolio"
    return AgentFactory(slug="portfolio", model=NATIVE_MODEL)


@pytest.fixture
def visitor() -> APIClient:
    """Nobody in particular: no account, no cookie, no token."""
    return APIClient()


def chat(client: Any, body: Any = None, **extra: Any) -> Any:
    """POSTs ``body`` as JSON; ``extra`` are WSGI environ entries (REMOTE_ADDR, HTTP_...)."""
    return client.post(CHAT, body, format="json", **extra)
