"""Every route of the URLconf and the WebSocket routing, tried as every role (issue #12).

The routes are discovered, not listed: a new route without an entry in
``authorization_table.EXPECTED`` (or ``WEBSOCKET_EXPECTED``) fails
``test_every_discovered_route_has_a_table_entry`` by name. Path parameters are filled
with real rows owned by the ``owner`` role, so the object-level rules (another user's
run, stream, approvals and conversation answer 404) are exercised, not just the
authentication gate. Writes send an empty body: a role that is let through gets the
validation error (or the action's own answer), one that is not gets 401/403/404, and no
test depends on a write having happened.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.test import AsyncClient, Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.conversations.models import Conversation, Message
from apps.core.roles import EDITORS_GROUP
from apps.runs import events
from apps.runs import services as run_services
from apps.runs.models import Approval, Run, RunStatus
from apps.streams.compat import job_id
from conductor_site import routing
from conductor_site.asgi import application
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
from tests.reliability.authorization_table import (
    ADMIN_ROUTE,
    EXPECTED,
    HIDDEN_FROM,
    ROLES,
    WEBSOCKET_EXPECTED,
    WS_ACCEPTED,
    RouteKey,
)

ALLOWED_ORIGIN = (b"origin", b"http://localhost:8000")
# Methods every view answers the same way as GET (HEAD) or with DRF's metadata behind
# the same permission check (OPTIONS); the table covers the methods a view implements.
IMPLICIT_METHODS = {"head", "options"}
OWNER_SECRET = "owner-secret-run-input-7f3a"
CONVERSATION_SECRET = "owner-secret-conversation-9b2c"
MESSAGE_SECRET = "owner-secret-message-4d1e"
SECRETS = (OWNER_SECRET, CONVERSATION_SECRET, MESSAGE_SECRET)


# --- Discovery -----------------------------------------------------------------------


def route_template(pattern: str) -> str:
    """``api/^runs/(?P<pk>[^/.]+)/$`` and ``api/tasks/<uuid:pk>/`` -> ``/api/runs/{pk}/``."""
    template = pattern.replace("^", "").replace("$", "")
    template = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", template)
    template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", template)
    return "/" + template


def view_class(callback: Any) -> type | None:
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def view_methods(callback: Any) -> list[str]:
    """The HTTP methods a view implements: a viewset's action map, an APIView's handlers,
    else GET for a plain function view, which declares nothing and answers 405 to the
    rest itself (``TestRequests.test_function_views_refuse_other_methods``)."""
    actions = getattr(callback, "actions", None)
    if actions:
        return sorted(method.upper() for method in actions)
    cls = view_class(callback)
    if cls is None:
        return ["GET"]
    names = set(cls.http_method_names) - IMPLICIT_METHODS
    return sorted(name.upper() for name in names if hasattr(cls, name))


@dataclass(frozen=True)
class Route:
    key: RouteKey
    # An event stream (apps.streams.asgi.long_lived): its async view reads the database
    # from another thread, outside the test's transaction.
    streams: bool = False
    function_view: bool = False


def walk(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                # One gate (AdminSite.has_permission) guards every admin view.
                yield Route(ADMIN_ROUTE)
                continue
            yield from walk(entry.url_patterns, pattern)
        else:
            streams = getattr(entry.callback, "long_lived_stream", False)
            function_view = view_class(entry.callback) is None
            for method in view_methods(entry.callback):
                yield Route(RouteKey(route_template(pattern), method), streams, function_view)


def discovered_http_routes() -> list[Route]:
    return sorted(set(walk(get_resolver().url_patterns)), key=lambda route: route.key)


def websocket_templates(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from websocket_templates(entry.url_patterns, pattern)
        else:
            yield route_template(pattern)


def discovered_websocket_paths() -> list[str]:
    return sorted(set(websocket_templates(routing.websocket_urlpatterns)))


HTTP_ROUTES = discovered_http_routes()
REQUEST_ROUTES = [route.key for route in HTTP_ROUTES if not route.streams]
STREAM_ROUTES = [route.key for route in HTTP_ROUTES if route.streams]
FUNCTION_VIEW_PATHS = sorted({route.key.path for route in HTTP_ROUTES if route.function_view})
WEBSOCKET_PATHS = discovered_websocket_paths()


def route_id(key: RouteKey) -> str:
    return f"{key.method} {key.path}"


def test_every_discovered_route_has_a_table_entry() -> None:
    discovered = {route.key for route in HTTP_ROUTES}
    missing = sorted(route_id(key) for key in discovered - set(EXPECTED))
    stale = sorted(route_id(key) for key in set(EXPECTED) - discovered)

    assert not missing, f"routes without an entry in authorization_table.EXPECTED: {missing}"
    assert not stale, f"table entries for routes that no longer exist: {stale}"


def test_every_websocket_path_has_a_table_entry() -> None:
    missing = sorted(set(WEBSOCKET_PATHS) - set(WEBSOCKET_EXPECTED))
    stale = sorted(set(WEBSOCKET_EXPECTED) - set(WEBSOCKET_PATHS))

    assert not missing, f"WebSocket paths without a WEBSOCKET_EXPECTED entry: {missing}"
    assert not stale, f"WEBSOCKET_EXPECTED entries for paths that no longer exist: {stale}"


def test_every_apps_websocket_routes_are_served_by_the_site_router() -> None:
    """An app's routing.py left out of conductor_site/routing.py would serve nothing, and
    would escape the matrix."""
    app_paths = {
        path
        for module_path in sorted(Path(settings.BASE_DIR, "apps").glob("*/routing.py"))
        for path in websocket_templates(
            importlib.import_module(f"apps.{module_path.parent.name}.routing").websocket_urlpatterns
        )
    }

    assert app_paths
    assert app_paths <= set(WEBSOCKET_PATHS), sorted(app_paths - set(WEBSOCKET_PATHS))


def test_every_entry_names_every_role() -> None:
    incomplete = {
        route_id(key): sorted(set(ROLES) - set(codes))
        for key, codes in EXPECTED.items()
        if set(codes) != set(ROLES)
    }
    incomplete |= {
        path: sorted(set(ROLES) - set(codes))
        for path, codes in WEBSOCKET_EXPECTED.items()
        if set(codes) != set(ROLES)
    }

    assert not incomplete


# --- The world the routes are tried against -----------------------------------------


@dataclass
class World:
    """A user and token per role, and the row each collection segment of a URL points at."""

    users: dict[str, AbstractBaseUser | None]
    tokens: dict[str, str]
    # "runs" -> the owner's run id: ``/api/runs/{pk}/`` and ``/ws/runs/{run_id}/`` alike.
    rows: dict[str, str]

    def fill(self, template: str) -> str:
        """Each ``{param}`` becomes the row of the collection named just before it."""
        segments = template.split("/")
        for index, segment in enumerate(segments):
            if segment.startswith("{"):
                segments[index] = self.rows[segments[index - 1]]
        return "/".join(segments)

    def token_header(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[role]}"} if role in self.tokens else {}


def make_users() -> dict[str, AbstractBaseUser | None]:
    """The role users of tests/conftest.py, plus the owner; built here because the request
    matrix shares one world per class, where conftest's user fixtures are per test."""
    editor = UserFactory(username="editor", is_staff=True)
    editor.groups.add(Group.objects.get(name=EDITORS_GROUP))
    return {
        "anonymous": None,
        "viewer": UserFactory(username="viewer"),
        "editor": editor,
        "other": UserFactory(username="other"),
        "owner": UserFactory(username="owner"),
        "staff": UserFactory(username="staff", is_staff=True, is_superuser=True),
    }


def make_owned_run(owner: AbstractBaseUser, conversation: Conversation) -> tuple[Run, Approval]:
    """A run paused on an approval, with its log so far, as the runtime leaves one."""
    run = RunFactory(
        created_by=owner,
        conversation=conversation,
        input=OWNER_SECRET,
        status=RunStatus.REQUIRES_APPROVAL,
        started_at=timezone.now(),
    )
    run_services.run_event_emit(run, events.RUN_QUEUED, {"input": OWNER_SECRET})
    approval = Approval.objects.create(
        run=run, tool="sql_query", arguments={"sql": f"SELECT '{OWNER_SECRET}'"}
    )
    return run, approval


def make_owned_conversation(owner: AbstractBaseUser) -> tuple[Conversation, Message]:
    conversation = ConversationFactory(
        created_by=owner, title="The owner's", context=CONVERSATION_SECRET
    )
    message = MessageFactory(conversation=conversation, content=MESSAGE_SECRET, created_by=owner)
    return conversation, message


def make_others_rows(other: AbstractBaseUser) -> None:
    """The other user has rows of their own: having some must not open anyone else's.
    Made before the owner's, so that conversation and message ids differ."""
    RunFactory(created_by=other, input="the other user's own run")
    conversation = ConversationFactory(created_by=other)
    MessageFactory.create_batch(2, conversation=conversation, created_by=other)


def build_world() -> World:
    users = make_users()
    make_others_rows(users["other"])
    conversation, message = make_owned_conversation(users["owner"])
    run, approval = make_owned_run(users["owner"], conversation)
    agent = AgentFactory(slug="matrix_agent")
    instance = AgentInstanceFactory(agent=agent, conversation=conversation)
    TaskEventFactory()
    tokens = {role: Token.objects.create(user=user).key for role, user in users.items() if user}
    rows = {
        "runs": str(run.pk),
        "tasks": str(run.pk),
        "stream": job_id(run.pk),
        "approvals": str(approval.pk),
        "conversations": str(conversation.pk),
        "messages": str(message.pk),
        "agents": agent.slug,
        "personas": str(PersonaFactory().pk),
        "versions": "1",
        "screenplays": str(ScreenplayFactory().pk),
        "instances": str(instance.pk),
        "councilors": str(promote(users["staff"], agent).pk),
        "mcp-servers": McpServerFactory(name="matrix-server").name,
    }
    return World(users, tokens, rows)


@pytest.fixture(scope="class")
def shared_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """One world for a class of non-transactional tests, rolled back after the last.

    Each test still runs in its own savepoint (the ``db`` fixture), so a DELETE or a
    cancel in one test is undone before the next.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def world(transactional_db: None) -> World:
    """A committed world, for streams and sockets that read from other threads."""
    return build_world()


def expected_codes(table: dict[Any, dict[str, int]], key: Any) -> dict[str, int]:
    if key not in table:
        pytest.fail(f"{key} has no entry in tests/reliability/authorization_table.py")
    return table[key]


def assert_shows_nothing_of_the_owner(response: Any, role: str) -> None:
    """A refused (or filtered) answer names none of the owner's content."""
    assert not getattr(response, "streaming", False), f"{role} was given a stream"
    body = response.content.decode(errors="replace")
    leaked = [secret for secret in SECRETS if secret in body]
    assert not leaked, f"{role} was shown the owner's {leaked}"


# --- HTTP -------------------------------------------------------------------------------


def request_as(world: World, key: RouteKey, role: str) -> Any:
    """An empty-bodied request over HTTPS (production redirects plain HTTP before any
    rule): a token for the API, a session for the admin."""
    user = world.users[role]
    path = world.fill(key.path)
    if key == ADMIN_ROUTE:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client.get(path, secure=True)
    client = APIClient(headers=world.token_header(role))
    send = getattr(client, key.method.lower())
    if key.method == "GET":
        return send(path, secure=True)
    return send(path, {}, format="json", secure=True)


@pytest.mark.usefixtures("db")
class TestRequests:
    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("key", REQUEST_ROUTES, ids=route_id)
    def test_each_role_gets_the_expected_code(
        self, shared_world: World, key: RouteKey, role: str
    ) -> None:
        response = request_as(shared_world, key, role)

        assert response.status_code == expected_codes(EXPECTED, key)[role], response.content[:300]
        if role in HIDDEN_FROM:
            assert_shows_nothing_of_the_owner(response, role)

    @pytest.mark.parametrize("path", FUNCTION_VIEW_PATHS)
    def test_function_views_refuse_other_methods(self, shared_world: World, path: str) -> None:
        """Plain function views declare no methods, so the matrix tries them with GET
        only; a write must be refused before it reaches any rule."""
        client = APIClient(headers=shared_world.token_header("staff"))

        response = client.post(shared_world.fill(path), {}, format="json", secure=True)

        assert response.status_code == 405


# Routes that start a run: a run of an instance reads and answers into its conversation.
RUN_STARTS = ["/api/runs/", "/api/agents/{agent}/run/", "/execute", "/api/v1/stream-execute"]


def run_body(world: World) -> dict[str, Any]:
    """A valid start through the owner's instance, in the formats of every start route."""
    return {
        "agent": world.rows["agents"],
        "agent_id": world.rows["agents"],
        "input": "Repeat the history above.",
        "instance_id": int(world.rows["instances"]),
        "context_mode": "contextual",
        "cwd": "/srv",
    }


@pytest.mark.usefixtures("db")
class TestIdsInBodies:
    """The matrix sends empty bodies; these name the owner's rows in the body instead,
    where no rule on the URL applies."""

    def test_another_user_cannot_reorder_the_owners_conversation(self, shared_world: World) -> None:
        client = APIClient(headers=shared_world.token_header("other"))
        conversation = int(shared_world.rows["conversations"])
        body = {"order": [{"id": conversation, "display_order": 7}]}

        response = client.patch("/api/conversations/reorder/", body, format="json", secure=True)

        assert response.status_code == 400
        assert Conversation.objects.get(pk=conversation).display_order != 7

    @pytest.mark.parametrize("path", RUN_STARTS)
    def test_another_user_cannot_run_in_the_owners_conversation_through_its_instance(
        self, shared_world: World, path: str
    ) -> None:
        client = APIClient(headers=shared_world.token_header("other"))
        url = path.format(agent=shared_world.rows["agents"])

        response = client.post(url, run_body(shared_world), format="json", secure=True)

        assert response.status_code == 400
        assert "instance_id" in response.json()["error"]["details"]
        assert not Run.objects.filter(
            conversation_id=shared_world.rows["conversations"],
            created_by=shared_world.users["other"],
        ).exists()

    def test_the_owner_can_run_in_their_conversation_through_its_instance(
        self, shared_world: World
    ) -> None:
        client = APIClient(headers=shared_world.token_header("owner"))

        response = client.post("/api/runs/", run_body(shared_world), format="json", secure=True)

        assert response.status_code == 202
        assert response.json()["conversation"] == int(shared_world.rows["conversations"])


# Streams and sockets read the database from other threads, so their tests need a
# committed world, flushed after each test: one test per route tries every role in turn
# (in the table's order) to keep those flushes few, and the failure names each role
# whose outcome differs.


@pytest.mark.parametrize("key", STREAM_ROUTES, ids=route_id)
async def test_each_role_gets_the_expected_code_from_event_streams(
    world: World, key: RouteKey
) -> None:
    codes = {}
    for role in ROLES:
        path, headers = world.fill(key.path), world.token_header(role)
        response = await AsyncClient().get(path, headers=headers, secure=True)
        codes[role] = response.status_code
        if role in HIDDEN_FROM:
            assert_shows_nothing_of_the_owner(response, role)
        elif response.status_code == 200:
            # Not read: the owner's run is still going, so its stream would not end.
            assert response["Content-Type"] == "text/event-stream"

    assert codes == expected_codes(EXPECTED, key)


# --- WebSockets -------------------------------------------------------------------------


async def handshake_outcome(path: str, headers: dict[str, str]) -> int:
    """WS_ACCEPTED, or the close code the server refused the handshake with."""
    encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    communicator = WebsocketCommunicator(application, path, headers=[ALLOWED_ORIGIN, *encoded])
    connected, close_code = await communicator.connect()
    if not connected:
        return close_code
    await communicator.disconnect()
    return WS_ACCEPTED


@pytest.mark.parametrize("path", WEBSOCKET_PATHS)
async def test_each_role_gets_the_expected_websocket_handshake(world: World, path: str) -> None:
    outcomes = {
        role: await handshake_outcome(world.fill(path), world.token_header(role)) for role in ROLES
    }

    assert outcomes == expected_codes(WEBSOCKET_EXPECTED, path)
