"""A live Conductor (`manage.py serve`) for the Python client and CLI tests.

One server per session: starting it (migrate, demo content, web, worker) is most of
the time. It runs with its own data directory, so it always uses the embedded
default (SQLite, in-memory channel layer and broker), whatever the suite's
DATABASE_URL and REDIS_URL say; its agents' LLM is the scripted fake server.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.llm_server import FakeLLMServer
from tests.subprocesses import Served, child_env, fake_llm_env, manage, serving

ECHO_AGENT = "client_echo"
CAREFUL_AGENT = "client_careful"  # its one tool, sql_query, needs a human approval
OWNER = "client-owner"

_SETUP_SCRIPT = """
import json
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from apps.agents.models import Agent

spec = json.loads({spec!r})
for slug, tools in spec["agents"].items():
    Agent.objects.update_or_create(
        slug=slug,
        defaults=dict(name=slug, model="gpt-4o-mini", tools=tools, description="Client tests."),
    )
user, _ = get_user_model().objects.update_or_create(
    username=spec["username"], defaults=dict(is_staff=spec["staff"], is_superuser=spec["superuser"])
)
user.set_unusable_password()
user.save()
token, _ = Token.objects.get_or_create(user=user)
print("TOKEN=" + token.key)
"""


@dataclass
class LiveServer:
    """A running Conductor for client tests.

    - ``url``: its base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash).
    - ``token``: a DRF token of ``username``, a superuser (so it may decide approvals and
      write screenplays and personas).
    - ``username``: ``"client-owner"``.
    - ``fake_llm``: the scripted OpenAI-compatible server every agent talks to; call
      ``live_server.fake_llm.script(llm.text("..."), ...)`` before starting a run.
      Each test gets it emptied (see the ``fake_llm_live`` fixture) when it asks for it.
    - ``echo_agent``: slug of an agent with no tools (one scripted reply ends a run).
    - ``careful_agent``: slug of an agent whose tool ``sql_query`` needs an approval.
    - ``cwd``: an existing directory to pass as a run's ``cwd`` (runs need one).
    - ``make_user(username=None, *, staff=False) -> str``: creates (or updates) a user in
      the server's database (a random name by default) and returns its token; the tokens
      made so far are in ``tokens``.
    - ``served``: the underlying :class:`tests.subprocesses.Served` (``.output``).
    - ``env``: the child's environment, for running other ``manage.py`` commands
      against the same database.
    """

    url: str
    token: str
    username: str
    fake_llm: FakeLLMServer
    served: Served
    env: dict[str, str]
    cwd: str
    echo_agent: str = ECHO_AGENT
    careful_agent: str = CAREFUL_AGENT
    tokens: dict[str, str] = field(default_factory=dict)

    def make_user(self, username: str | None = None, *, staff: bool = False) -> str:
        username = username or f"user-{secrets.token_hex(4)}"
        self.tokens[username] = _setup(self.env, username=username, staff=staff)
        return self.tokens[username]


def _setup(
    env: dict[str, str],
    *,
    username: str,
    staff: bool = False,
    superuser: bool = False,
    agents: dict[str, list[str]] | None = None,
) -> str:
    spec = {"username": username, "staff": staff, "superuser": superuser, "agents": agents or {}}
    script = _SETUP_SCRIPT.format(spec=json.dumps(spec))
    result = manage("shell", "-c", script, env=env, timeout=60)
    for line in result.stdout.splitlines():
        if line.startswith("TOKEN="):
            return line.removeprefix("TOKEN=")
    raise RuntimeError(f"creating {username} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(autouse=True)
def _live_server_helper() -> None:
    """Overrides pytest-django's helper of that name, which expects its own ``live_server``
    (an in-process server on the test database); ours is a separate process with its own."""


@pytest.fixture(scope="session")
def live_fake_llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, live_fake_llm: FakeLLMServer
) -> Iterator[LiveServer]:
    """`manage.py serve` on a free port with a staff user's token; see :class:`LiveServer`."""
    data_dir: Path = tmp_path_factory.mktemp("client-live-server")
    env = child_env(
        data_dir,
        **fake_llm_env(live_fake_llm.base_url),
        CONDUCTOR_CANCEL_POLL_SECONDS="0.1",
        CONDUCTOR_SSE_KEEPALIVE_SECONDS="1",
    )
    workspace = data_dir / "workspace"
    workspace.mkdir()
    with serving(env, "--concurrency", "2", "--no-beat") as served:
        agents = {ECHO_AGENT: [], CAREFUL_AGENT: ["sql_query"]}
        token = _setup(env, username=OWNER, staff=True, superuser=True, agents=agents)
        yield LiveServer(
            url=served.base,
            token=token,
            username=OWNER,
            fake_llm=live_fake_llm,
            served=served,
            env=env,
            cwd=str(workspace),
        )


@pytest.fixture
def fake_llm_live(live_server: LiveServer) -> FakeLLMServer:
    """The live server's fake LLM, emptied: each test scripts its own conversation."""
    live_server.fake_llm.reset()
    return live_server.fake_llm


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test's report shows what the live server printed."""
    report = yield
    server = getattr(item, "funcargs", {}).get("live_server")
    if report.failed and isinstance(server, LiveServer):
        report.sections.append(("conductor serve output", server.served.output[-20000:]))
    return report
