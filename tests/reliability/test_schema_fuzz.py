"""Fuzzing: every operation of the served OpenAPI schema, through schemathesis.

Schemathesis generates valid and invalid requests for each operation from ``/api/schema/``
and sends them to the app in-process (its WSGI handler, on the test database). Every
answer must be below 500 and documented: its status, content type and body match what
the schema says. A failure names the operation and prints the request as a curl command.

Requests carry a staff token (every write is reachable), then a viewer's (permissions and
object-level rules). Generation is seeded (``derandomize``): CI replays the same requests.
Each call runs inside a savepoint rolled back afterwards: a generated DELETE or rename
cannot take away the objects the next examples aim their path parameters at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.runs.models import Approval
from apps.runtime.providers import DEMO_MODEL
from tests.councilors.helpers import promote
from tests.factories import (
    AgentFactory,
    AgentInstanceFactory,
    ConversationFactory,
    McpServerFactory,
    MessageFactory,
    PersonaFactory,
    RunFactory,
    ScreenplayFactory,
    TaskEventFactory,
    UserFactory,
)

# No server error, and nothing the schema does not document: status, headers, content
# type and body.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# The ids of the objects the fixture creates, by the path segment that names their kind.
# The hooks below read it while generating: schemathesis cannot guess a row's id.
WORLD: dict[str, dict[str, Any]] = {}


@pytest.fixture(autouse=True)
def _requests_keep_the_test_transaction() -> Iterator[None]:
    """A request normally starts by closing connections that are not in autocommit mode,
    which would end the test's transaction; Django's test client unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)


@pytest.fixture
def fuzz_world(settings) -> dict[str, Any]:
    """One of everything, owned by a superuser; the API tokens of that user and of a viewer.

    The viewer owns nothing: the staff's conversation and run are another user's to them.
    """
    settings.CONDUCTOR_DEMO_MODEL = DEMO_MODEL
    settings.CONDUCTOR_DEFAULT_MODEL = DEMO_MODEL
    staff = UserFactory(username="fuzz-staff", is_staff=True, is_superuser=True)
    agent = AgentFactory(slug="assistant", model=DEMO_MODEL)
    AgentFactory(slug=settings.CONDUCTOR_PORTFOLIO_AGENT, model=DEMO_MODEL)
    persona = PersonaFactory(author=staff)
    screenplay = ScreenplayFactory()
    conversation = ConversationFactory(created_by=staff, screenplay=screenplay)
    instance = AgentInstanceFactory(agent=agent, conversation=conversation)
    message = MessageFactory(conversation=conversation)
    run = RunFactory(agent=agent, created_by=staff, model=DEMO_MODEL)
    approval = Approval.objects.create(run=run, tool="echo", arguments={"text": "hi"})
    councilor = promote(staff, agent)
    server = McpServerFactory()
    TaskEventFactory()
    WORLD.clear()
    WORLD.update(
        {
            "agents": {"slug": agent.slug},
            "personas": {"id": persona.pk, "persona_pk": persona.pk, "version": 1},
            "screenplays": {"id": screenplay.pk},
            "conversations": {
                "id": conversation.pk,
                "conversation_pk": conversation.pk,
                "id_message": message.pk,
            },
            "instances": {"id": instance.pk},
            "runs": {"id": str(run.pk), "approval_id": str(approval.pk)},
            "councilors": {"id": councilor.pk},
            "mcp-servers": {"name": server.name},
            "tasks": {"id": str(run.pk)},  # a task is a run seen from the activity feed
        }
    )
    viewer = UserFactory(username="fuzz-viewer")
    return {
        "staff": Token.objects.create(user=staff).key,
        "viewer": Token.objects.create(user=viewer).key,
    }


def _existing(path: str) -> dict[str, Any]:
    """The real path parameters for an operation's path, e.g. /api/runs/{id}/cancel/."""
    kind = path.removeprefix("/api/").split("/", 1)[0]
    known = dict(WORLD.get(kind, {}))
    if "{conversation_pk}" in path and "id_message" in known:
        known["id"] = known["id_message"]
    return known


def flatmap_path_parameters(
    context: HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half the examples aim at a row that exists; the others keep the generated values."""
    known = _existing(context.operation.path)
    real = {name: known[name] for name in path_parameters or {} if name in known}
    if not real:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **real}])


# Loaded at collection, as the API serves it; requests go to the same in-process handler.
schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
schema.hook(flatmap_path_parameters)
# The coverage phase sends every boundary case the schema defines, thousands in all: too
# many for CI. The schema's examples, then max_examples generated requests, valid and not.
# CONDUCTOR_FUZZ_EXAMPLES raises it for a longer local run.
schema.config.phases.update(phases=["examples", "fuzzing"])
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("CONDUCTOR_FUZZ_EXAMPLES", "25")),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

# These run the agent inside the request and, as a worker does, close the database
# connection afterwards: they need autocommit, so a transactional test and no savepoint.
RUNS_INLINE = ["/execute", "/api/portfolio/chat/"]


def _authorized(fuzz_world: dict[str, Any], user: str) -> dict[str, str]:
    return {"Authorization": f"Token {fuzz_world[user]}"}


def _call_rolled_back_and_validate(case: Case, headers: dict[str, str]) -> None:
    with transaction.atomic():
        response = case.call(headers=headers)
        transaction.set_rollback(True)
    case.validate_response(response, checks=CHECKS)


@schema.exclude(path=RUNS_INLINE).parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db
def test_every_operation_answers_staff_as_documented(case, fuzz_world):
    _call_rolled_back_and_validate(case, _authorized(fuzz_world, "staff"))


@schema.exclude(path=RUNS_INLINE).parametrize()
@settings(FUZZ_SETTINGS, max_examples=5)
@pytest.mark.django_db
def test_every_operation_answers_a_viewer_as_documented(case, fuzz_world):
    """Fewer examples: what changes for a viewer is mostly 403s and 404s, found quickly."""
    _call_rolled_back_and_validate(case, _authorized(fuzz_world, "viewer"))


@schema.include(path=RUNS_INLINE).parametrize()
@FUZZ_SETTINGS
@pytest.mark.django_db(transaction=True)
def test_operations_that_run_an_agent_inline_answer_as_documented(case, fuzz_world):
    response = case.call(headers=_authorized(fuzz_world, "staff"))
    case.validate_response(response, checks=CHECKS)
