from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from rest_framework.authtoken.models import Token

from apps.personas.services import persona_update
from apps.screenplays.services import screenplay_create
from tests.factories import AgentFactory, PersonaFactory, UserFactory
from tests.fakes.llm_server import FakeLLMServer
from tests.mcp.servers import ChildLog
from tests.subprocesses import Served


@pytest.fixture(scope="module")
def shared_fake_llm() -> Iterator[FakeLLMServer]:
    """One fake LLM for the module's child processes (they get its URL at start)."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def fake_llm(shared_fake_llm: FakeLLMServer) -> FakeLLMServer:
    """The module's fake LLM, emptied: each test scripts its own replies.

    It replaces the suite's ``fake_llm`` here: the LLM calls happen in the children,
    which get its URL in their environment, not in this process.
    """
    shared_fake_llm.reset()
    return shared_fake_llm


@pytest.fixture
def team(transactional_db, staff):
    """An agent on the fake LLM whose persona has three versions, and a screenplay."""
    author = UserFactory(username="persona-author")
    voice = PersonaFactory(name="Helper voice", content="You help.", author=author)
    voice = persona_update(persona=voice, actor=staff, content="You help briefly.")
    voice = persona_update(persona=voice, actor=staff, content="You help briefly and kindly.")
    helper = AgentFactory(
        slug="helper",
        name="Helper",
        description="Helps with whatever you ask.",
        persona=voice,
        model="gpt-4o-mini",
        mcp_configs={"mcpServers": {"files": {"command": "mcp-fs", "env": {"TOKEN": "s3cret"}}}},
    )
    guide = screenplay_create(
        name="Guide", content="# Guide\n\nThe project's guide.\n", working_directory="/srv/guide"
    )
    return SimpleNamespace(persona=voice, agent=helper, screenplay=guide)


def token_for(user: Any) -> str:
    return Token.objects.get_or_create(user=user)[0].key


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report shows what its server child printed."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, Served | ChildLog):
                report.sections.append((f"{name} output", value.output))
    return report
