"""Who gets what from every route: the expected-code table of test_authorization_matrix.

Keys are the route as the URLconf spells it (DRF's regexes and Django's converters both
written ``{name}``) and the method; values give the status code for each role:

- ``anonymous``: no credentials;
- ``viewer``: a signed-in user with no permissions who owns nothing;
- ``editor``: staff in the Editors group (apps/core/roles.py): every content permission,
  not superuser. Being staff, an editor sees every user's runs and conversations;
- ``other``: a signed-in user with runs and conversations of their own, none of them the
  ones in the URL;
- ``owner``: the ordinary user who started the run and the conversation in the URL;
- ``staff``: a superuser.

Object routes are filled with the owner's run (paused on a pending approval), the
owner's conversation and message, and shared content (agent, persona, screenplay,
instance, councilor, MCP server). Writes send an empty JSON body, so a role that is let
through usually gets 400 (or the action's own answer) and never 401/403/404.

The project's convention (SPEC §4, apps/runs/api/runs.py, apps/conversations/api): a
run or conversation you may not see answers **404**, exactly as one that does not exist,
on every route under it; a content write without the model permission answers **403**.

Left out of the route list, on purpose:
- the admin's ~150 model routes: one gate, ``AdminSite.has_permission`` (active staff),
  stands in front of all of them, so the table checks it once at ``/admin/``; per-model
  admin permissions are tested in each app's ``test_admin``;
- HEAD and OPTIONS: HEAD is GET without a body, OPTIONS runs the same permission checks;
- ``/mcp/``: mounted beside Django in conductor_site/asgi.py (not in the URLconf) and
  guarded by the MCP server's own bearer check (tests/mcp);
- static files: served by the web server in production, not by a Django route.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings


class RouteKey(NamedTuple):
    path: str
    method: str


Codes = dict[str, int]

ROLES = ("anonymous", "viewer", "editor", "other", "owner", "staff")
SIGNED_IN = ROLES[1:]
# The roles that must never see the owner's run or conversation, in any response.
HIDDEN_FROM = ("anonymous", "viewer", "other")
ADMIN_ROUTE = RouteKey("/admin/", "GET")
# An accepted WebSocket handshake (the HTTP status of the upgrade); refusals are close codes.
WS_ACCEPTED = 101
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


# --- The rules ------------------------------------------------------------------------


def public(code: int) -> Codes:
    """No credentials needed: every role gets the same answer."""
    return dict.fromkeys(ROLES, code)


def signed_in(code: int) -> Codes:
    """Any signed-in user; anonymous gets 401."""
    return {"anonymous": 401, **dict.fromkeys(SIGNED_IN, code)}


def content_write(code: int) -> Codes:
    """A write on curated content: needs the model permission (editors and superusers)."""
    return {
        "anonymous": 401,
        **dict.fromkeys(("viewer", "other", "owner"), 403),
        **dict.fromkeys(("editor", "staff"), code),
    }


def owned(code: int, *, owner: int | None = None) -> Codes:
    """The owner's run or conversation: the owner and staff (editors are staff) only;
    anyone else gets 404, as for a row that does not exist."""
    return {
        "anonymous": 401,
        "viewer": 404,
        "other": 404,
        "owner": code if owner is None else owner,
        **dict.fromkeys(("editor", "staff"), code),
    }


def routes(prefix: str, table: dict[tuple[str, str], Codes]) -> dict[RouteKey, Codes]:
    return {RouteKey(prefix + path, method): codes for (path, method), codes in table.items()}


# --- Open, and the signed-in basics ----------------------------------------------------

# The OpenAPI docs are public in development only (SPEC §4): settings pick the permission
# from DJANGO_DEBUG at start-up (the embedded default is development).
DOCS_ARE_PUBLIC = settings.SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] == [
    "rest_framework.permissions.AllowAny"
]
API_DOCS = public(200) if DOCS_ARE_PUBLIC else signed_in(200)

BASICS = {
    RouteKey("/health", "GET"): public(200),
    RouteKey("/api/schema/", "GET"): API_DOCS,
    RouteKey("/api/docs/", "GET"): API_DOCS,
    RouteKey("/api/redoc/", "GET"): API_DOCS,
    # Signing in: open to all, so an empty body is a 400 whoever asks.
    RouteKey("/api/auth/token/", "POST"): public(400),
    # The public portfolio chat (SPEC §4): the empty body is refused, not the caller.
    RouteKey("/api/portfolio/chat/", "POST"): public(400),
    RouteKey("/api/", "GET"): signed_in(200),
    RouteKey("/api/me/", "GET"): signed_in(200),
    RouteKey("/api/tools/", "GET"): signed_in(200),
    RouteKey("/api/models/", "GET"): signed_in(200),
    RouteKey("/api/models/select/", "GET"): signed_in(200),
    # AdminSite.has_permission: active staff only; everyone else is sent to its login.
    RouteKey("/admin/", "GET"): {
        **dict.fromkeys(("anonymous", "viewer", "other", "owner"), 302),
        **dict.fromkeys(("editor", "staff"), 200),
    },
}

# --- Curated content: every signed-in user reads, editors write ------------------------

CONTENT = {
    **routes(
        "/api/agents/",
        {
            ("", "GET"): signed_in(200),
            ("", "POST"): content_write(400),
            # Suggesting a slug and starting a run are for anyone signed in.
            ("suggest/", "POST"): signed_in(400),
            ("{slug}/", "GET"): signed_in(200),
            ("{slug}/", "PUT"): content_write(400),
            ("{slug}/", "PATCH"): content_write(200),
            # 409: the agent has runs (the owner's), and runs keep their agent.
            ("{slug}/", "DELETE"): content_write(409),
            ("{slug}/run/", "POST"): signed_in(400),
        },
    ),
    **routes(
        "/api/personas/",
        {
            ("", "GET"): signed_in(200),
            ("", "POST"): content_write(400),
            ("{pk}/", "GET"): signed_in(200),
            ("{pk}/", "PUT"): content_write(400),
            ("{pk}/", "PATCH"): content_write(200),
            ("{pk}/", "DELETE"): content_write(204),
            ("{persona_pk}/versions/", "GET"): signed_in(200),
            ("{persona_pk}/versions/{version}/", "GET"): signed_in(200),
            # Comparing two versions is a read, sent as a POST.
            ("{persona_pk}/versions/compare/", "POST"): signed_in(400),
            ("{persona_pk}/versions/restore/", "POST"): content_write(400),
            ("{persona_pk}/versions/cleanup/", "POST"): content_write(400),
        },
    ),
    **routes(
        "/api/screenplays/",
        {
            ("", "GET"): signed_in(200),
            ("", "POST"): content_write(400),
            # Checks an author runs before saving: reads, sent as POSTs.
            ("check-duplicate/", "POST"): signed_in(400),
            ("validate-markdown/", "POST"): signed_in(400),
            ("{pk}/", "GET"): signed_in(200),
            ("{pk}/", "PUT"): content_write(400),
            ("{pk}/", "PATCH"): content_write(200),
            ("{pk}/", "DELETE"): content_write(204),
            ("{pk}/mark-as-used/", "POST"): content_write(200),
            ("{pk}/rename/", "POST"): content_write(400),
            ("{pk}/working-directory/", "PATCH"): content_write(400),
            # 409: it is not deleted.
            ("{pk}/restore/", "POST"): content_write(409),
        },
    ),
    # Instances are curated like agents: anyone signed in reads them. What a run of one
    # would read from its conversation (``context``) follows the conversation's rule.
    **routes(
        "/api/instances/",
        {
            ("", "GET"): signed_in(200),
            ("", "POST"): content_write(400),
            ("reorder/", "PATCH"): content_write(400),
            ("{pk}/", "GET"): signed_in(200),
            ("{pk}/", "PUT"): content_write(400),
            ("{pk}/", "PATCH"): content_write(200),
            ("{pk}/", "DELETE"): content_write(204),
            ("{pk}/cwd/", "PATCH"): content_write(400),
            ("{pk}/mcp-configs/", "GET"): signed_in(200),
            ("{pk}/mcp-configs/", "PATCH"): content_write(400),
            ("{pk}/restore/", "POST"): content_write(409),
            ("{pk}/context/", "GET"): owned(200),
        },
    ),
    # Councilors are a shared dashboard; their runs are the system's (actor None), so
    # their reports show no user's run.
    **routes(
        "/api/councilors/",
        {
            ("", "GET"): signed_in(200),
            ("promote/", "POST"): content_write(400),
            ("scheduler/jobs/", "GET"): signed_in(200),
            ("{pk}/", "GET"): signed_in(200),
            ("{pk}/", "PATCH"): content_write(200),
            # The schedule is checked as a whole, so only PATCH is accepted: 405 once the
            # permission check has passed.
            ("{pk}/", "PUT"): content_write(405),
            ("{pk}/demote/", "POST"): content_write(200),
            ("{pk}/pause/", "POST"): content_write(200),
            ("{pk}/resume/", "POST"): content_write(200),
            ("{pk}/execute-now/", "POST"): content_write(202),
            ("{pk}/reports/", "GET"): signed_in(200),
        },
    ),
    # MCP servers: anyone signed in reads the registry; every write is staff-only
    # (IsStaff), which editors are.
    **routes(
        "/api/mcp-servers/",
        {
            ("", "GET"): signed_in(200),
            ("", "POST"): content_write(400),
            ("stats/", "GET"): signed_in(200),
            ("cleanup/", "POST"): content_write(200),
            ("heartbeat/", "POST"): content_write(400),
            ("{name}/", "GET"): signed_in(200),
            ("{name}/", "PUT"): content_write(400),
            ("{name}/", "PATCH"): content_write(200),
            ("{name}/", "DELETE"): content_write(204),
            ("{name}/health/", "POST"): content_write(200),
        },
    ),
}

# --- Runs, their streams and approvals: the owner and staff only -----------------------

RUNS = {
    # Lists are filtered, not refused: everyone gets 200 and only what is theirs.
    RouteKey("/api/runs/", "GET"): signed_in(200),
    RouteKey("/api/runs/", "POST"): signed_in(400),
    RouteKey("/api/runs/{pk}/", "GET"): owned(200),
    RouteKey("/api/runs/{pk}/cancel/", "POST"): owned(202),
    # Approving is staff's (SPEC §3): the owner is refused with 403, after the run was
    # found; anyone else cannot learn that the run exists.
    RouteKey("/api/runs/{pk}/approvals/{approval_id}/", "POST"): owned(400, owner=403),
    RouteKey("/api/runs/{pk}/events/", "GET"): owned(200),
    RouteKey("/api/tasks/", "GET"): signed_in(200),
    RouteKey("/api/tasks/events/", "GET"): signed_in(200),
    RouteKey("/api/tasks/{pk}/details/", "GET"): owned(200),
    # Another service reports task events: staff (or the service token) only.
    RouteKey("/api/internal/task-event/", "POST"): content_write(400),
    # The seed gateway's routes: starting is for anyone signed in, the stream is owned.
    RouteKey("/execute", "POST"): signed_in(400),
    RouteKey("/api/v1/stream-execute", "POST"): signed_in(400),
    RouteKey("/api/v1/stream/{job_id}", "GET"): owned(200),
}

# --- Conversations and their messages: the owner and staff only ------------------------

CONVERSATIONS = {
    RouteKey("/api/conversations/", "GET"): signed_in(200),
    RouteKey("/api/conversations/", "POST"): signed_in(400),
    # Reorders the caller's own conversations; the empty list is refused.
    RouteKey("/api/conversations/reorder/", "PATCH"): signed_in(400),
    **routes(
        "/api/conversations/{pk}/",
        {
            ("", "GET"): owned(200),
            ("", "PUT"): owned(400),
            ("", "PATCH"): owned(200),
            ("", "DELETE"): owned(204),
            ("active-agent/", "PUT"): owned(400),
            ("settings/", "PATCH"): owned(400),
            ("clone/", "POST"): owned(201),
            ("context/", "PATCH"): owned(400),
            # JSON where a multipart upload is expected: 415, once the conversation is found.
            ("context/upload/", "POST"): owned(415),
            ("title/", "PATCH"): owned(400),
            ("restore/", "POST"): owned(409),
        },
    ),
    **routes(
        "/api/conversations/{conversation_pk}/messages/",
        {
            ("", "GET"): owned(200),
            ("", "POST"): owned(400),
            ("{pk}/", "GET"): owned(200),
            ("{pk}/", "DELETE"): owned(204),
            ("{pk}/hide/", "POST"): owned(200),
            ("{pk}/unhide/", "POST"): owned(200),
            ("{pk}/toggle/", "POST"): owned(200),
        },
    ),
}

EXPECTED: dict[RouteKey, Codes] = {**BASICS, **CONTENT, **RUNS, **CONVERSATIONS}


# --- WebSockets: the close code of a refused handshake, else WS_ACCEPTED ------------

SIGNED_IN_SOCKET = {
    "anonymous": CLOSE_UNAUTHENTICATED,
    **dict.fromkeys(SIGNED_IN, WS_ACCEPTED),
}

WEBSOCKET_EXPECTED: dict[str, Codes] = {
    "/ws/ping/": SIGNED_IN_SOCKET,
    # Another user's run and an unknown run are refused alike.
    "/ws/runs/{run_id}/": {
        "anonymous": CLOSE_UNAUTHENTICATED,
        **dict.fromkeys(("viewer", "other"), CLOSE_FORBIDDEN),
        **dict.fromkeys(("owner", "editor", "staff"), WS_ACCEPTED),
    },
    # Broadcast feeds, open to anyone signed in: a broadcast about a run carries its owner
    # as audience and reaches only them and staff (tests/streams/test_ws_gamification.py).
    "/ws/gamification/": SIGNED_IN_SOCKET,
    "/ws/councilors/": SIGNED_IN_SOCKET,
}
