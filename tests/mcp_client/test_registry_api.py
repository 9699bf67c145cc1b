"""/api/mcp-servers/: staff register external MCP servers; anyone signed in reads them."""

from __future__ import annotations

import socket
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.core.roles import EDITORS_GROUP
from apps.mcp_client.models import McpServer, McpServerStatus
from tests.envelope import assert_envelope
from tests.factories import McpServerFactory, UserFactory
from tests.querycount import assert_constant_queries
from tests.subprocesses import BASE_DIR

pytestmark = pytest.mark.django_db

URL = "/api/mcp-servers/"
SECRET = "s3cr3t-token-value-42"
FAKE_SERVER_ARGS = ["-m", "tests.fakes.mcp_server"]


def detail(name: str, suffix: str = "") -> str:
    return f"{URL}{name}/{suffix}"


def stdio_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "local-fake", "transport": "stdio", "command": sys.executable} | overrides


def http_body(**overrides: Any) -> dict[str, Any]:
    body = {"name": "remote", "transport": "http", "url": "https://mcp.example.com/mcp"}
    return body | overrides


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(db) -> McpServer:
    return McpServerFactory(name="remote", description="A remote server")


@pytest.fixture
def non_staff_editor_client(api_client):
    """Every model permission (the Editors group) but not staff."""
    user = UserFactory(username="perms-not-staff")
    user.groups.add(Group.objects.get(name=EDITORS_GROUP))
    api_client.force_authenticate(user)
    return api_client


# --- registering ----------------------------------------------------------------------


def test_staff_registers_a_stdio_server_from_the_allow_list(staff_client, staff, stdio_allowed):
    response = staff_client.post(
        URL, stdio_body(args=FAKE_SERVER_ARGS, env={"LOG_LEVEL": "debug"}), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "local-fake"
    assert (body["command"], body["args"], body["env"]) == (
        sys.executable,
        FAKE_SERVER_ARGS,
        {"LOG_LEVEL": "debug"},
    )
    assert (body["status"], body["tools"], body["last_seen_at"]) == ("unknown", [], None)
    assert body["enabled"] is True
    assert body["requires_approval"] is True
    assert McpServer.objects.get(name="local-fake").created_by == staff


def test_staff_registers_an_http_server(staff_client):
    response = staff_client.post(
        URL, http_body(headers={"X-Team": "platform"}, timeout_s=10), format="json"
    )

    assert response.status_code == 201, response.content
    server = McpServer.objects.get(name="remote")
    assert (server.transport, server.url, server.headers, server.timeout_s) == (
        "http",
        "https://mcp.example.com/mcp",
        {"X-Team": "platform"},
        10,
    )


def test_a_duplicate_name_is_refused(staff_client, server):
    response = staff_client.post(URL, http_body(name="remote"), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {"name"}


# --- who may do what -------------------------------------------------------------------

WRITES = [
    ("post", URL, http_body(name="another")),
    ("patch", detail("remote"), {"description": "changed"}),
    ("put", detail("remote"), http_body(description="changed")),
    ("delete", detail("remote"), None),
    ("post", f"{URL}heartbeat/", {"name": "remote"}),
    ("post", detail("remote", "health/"), None),
    ("post", f"{URL}cleanup/", {"older_than_s": 1}),
]


@pytest.mark.parametrize("client_fixture", ["viewer_client", "non_staff_editor_client"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_non_staff_cannot_write(request, server, client_fixture, method, path, body):
    client = request.getfixturevalue(client_fixture)

    response = getattr(client, method)(path, body, format="json")

    assert_envelope(response, 403, "permission_denied")
    server.refresh_from_db()
    assert (server.description, server.last_seen_at, server.enabled) == (
        "A remote server",
        None,
        True,
    )
    assert McpServer.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("get", URL, None), ("get", detail("remote"), None), ("get", f"{URL}stats/", None), *WRITES],
)
def test_anonymous_requests_get_401(api_client, server, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")

    assert_envelope(response, 401, "not_authenticated")


def test_any_signed_in_user_lists_and_reads_servers(viewer_client, server):
    listing = viewer_client.get(URL)
    one = viewer_client.get(detail("remote"))

    assert listing.status_code == 200
    assert listing.json()["count"] == 1
    assert [row["name"] for row in listing.json()["results"]] == ["remote"]
    assert one.status_code == 200
    assert one.json()["url"] == "https://remote.example/mcp"


def test_the_list_filters_by_transport_and_status(viewer_client, stdio_allowed):
    McpServerFactory(name="up", status=McpServerStatus.HEALTHY)
    McpServerFactory(name="down", status=McpServerStatus.UNHEALTHY)
    McpServerFactory(name="local", transport="stdio", url="", command=sys.executable)

    healthy = viewer_client.get(URL, {"status": "healthy"}).json()["results"]
    stdio = viewer_client.get(URL, {"transport": "stdio"}).json()["results"]

    assert [row["name"] for row in healthy] == ["up"]
    assert [row["name"] for row in stdio] == ["local"]


def test_the_list_costs_the_same_queries_for_many_servers(viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get(f"{URL}?page_size=100"),
        lambda count: McpServerFactory.create_batch(count),
    )


@pytest.mark.parametrize("name", ["nope", "Remote", "re mote"])
def test_an_unknown_server_is_404(viewer_client, server, name):
    assert_envelope(viewer_client.get(detail(name)), 404, "not_found")


def test_any_signed_in_user_may_ask_what_the_endpoint_accepts(viewer_client):
    response = viewer_client.options(URL)

    assert response.status_code == 200
    assert "application/json" in response.json()["renders"]


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (stdio_body(command="/usr/bin/python3-not-listed"), "command"),
        (stdio_body(command="/bin/sh", args=["-c", "id"]), "command"),
        (stdio_body(command="sh"), "command"),
        (stdio_body(command=""), "command"),
        (stdio_body(url="https://mcp.example.com/mcp"), "url"),
        (stdio_body(headers={"X-Team": "a"}), "headers"),
        (http_body(url=""), "url"),
        (http_body(command=sys.executable), "command"),
        (http_body(args=["x"]), "args"),
        (http_body(env={"A": "b"}), "env"),
        (http_body(transport="websocket"), "transport"),
        (http_body(name="GitHub"), "name"),
        (http_body(name="a__b"), "name"),
        (http_body(name="-leading"), "name"),
        (http_body(name="x" * 33), "name"),
        (http_body(name="stats"), "name"),
        (http_body(name="heartbeat"), "name"),
        (http_body(timeout_s=0), "timeout_s"),
        (http_body(timeout_s=301), "timeout_s"),
        (http_body(timeout_s="soon"), "timeout_s"),
        (stdio_body(args="-m tests.fakes.mcp_server"), "args"),
        (stdio_body(args=[1, 2]), "args"),
        (stdio_body(args=["ok", None]), "args"),
        (stdio_body(args=["x"] * 65), "args"),
        (stdio_body(env=["A=b"]), "env"),
        (stdio_body(env={"1BAD": "x"}), "env"),
        (stdio_body(env={"A": 1}), "env"),
        (http_body(headers={"X-Trace": "a\r\nInjected: yes"}), "headers"),
        (http_body(headers={"Host": "internal"}), "headers"),
        (http_body(headers=None), "headers"),
    ],
)
def test_invalid_registrations_get_400_naming_the_field(staff_client, stdio_allowed, body, field):
    response = staff_client.post(URL, body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert field in error["details"], error
    assert not McpServer.objects.exists()


def test_a_command_outside_the_allow_list_says_which_setting_allows_it(staff_client, stdio_allowed):
    response = staff_client.post(URL, stdio_body(command="/bin/sh"), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "CONDUCTOR_MCP_STDIO_COMMANDS" in error["details"]["command"][0]


def test_an_update_is_validated_like_a_registration(staff_client, server, stdio_allowed):
    to_stdio = staff_client.patch(
        detail("remote"), {"transport": "stdio", "command": "/bin/sh"}, format="json"
    )
    to_loopback = staff_client.patch(detail("remote"), {"url": "http://127.0.0.1/"}, format="json")

    assert set(assert_envelope(to_stdio, 400)["details"]) >= {"command", "url"}
    assert set(assert_envelope(to_loopback, 400)["details"]) == {"url"}
    server.refresh_from_db()
    assert (server.transport, server.url) == ("http", "https://remote.example/mcp")


# --- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (http_body(headers={"Authorization": "Bearer abc"}), "headers"),
        (http_body(headers={"X-Api-Key": "abc"}), "headers"),
        (http_body(headers={"Authorization": "Bearer ${MCP_TOKEN} abc"}), "headers"),
        (stdio_body(env={"API_KEY": "abc"}), "env"),
        (stdio_body(env={"GITHUB_TOKEN": "ghp_123"}), "env"),
        (http_body(headers={"Authorization": "Bearer ${DJANGO_SECRET_KEY}"}), "headers"),
        (stdio_body(env={"DB": "${DATABASE_URL}"}), "env"),
    ],
)
def test_secrets_in_clear_or_references_outside_the_prefixes_are_refused(
    staff_client, stdio_allowed, body, field
):
    response = staff_client.post(URL, body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {field}
    assert not McpServer.objects.exists()


def test_a_reference_is_stored_and_shown_exactly_as_written(staff_client, monkeypatch):
    monkeypatch.setenv("MCP_TOKEN", SECRET)
    headers = {"Authorization": "Bearer ${MCP_TOKEN}"}

    created = staff_client.post(URL, http_body(headers=headers), format="json")
    responses = [created, staff_client.get(URL), staff_client.get(detail("remote"))]

    assert created.status_code == 201, created.content
    assert created.json()["headers"] == headers
    assert McpServer.objects.get().headers == headers
    for response in responses:
        assert response.status_code == 200 or response.status_code == 201
        assert SECRET not in response.content.decode()
        assert "${MCP_TOKEN}" in response.content.decode()


def test_a_stdio_env_reference_is_accepted(staff_client, stdio_allowed, monkeypatch):
    monkeypatch.setenv("MCP_GITHUB_TOKEN", SECRET)

    response = staff_client.post(
        URL, stdio_body(env={"GITHUB_TOKEN": "${MCP_GITHUB_TOKEN}"}), format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["env"] == {"GITHUB_TOKEN": "${MCP_GITHUB_TOKEN}"}
    assert SECRET not in response.content.decode()


# --- the URL guard ---------------------------------------------------------------------

BLOCKED_URLS = [
    "http://127.0.0.1:8000/mcp",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::1]/mcp",
    "http://localhost/",
    "http://169.254.169.254/",
    "http://10.0.0.5/mcp",
    "http://metadata.google.internal/",
    "ftp://mcp.example.com/",
    "http://user:pass@mcp.example.com/mcp",
    "not a url",
    "https://",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
def test_internal_and_non_http_urls_are_refused_at_registration(staff_client, url):
    response = staff_client.post(URL, http_body(url=url), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {"url"}
    assert not McpServer.objects.exists()


@pytest.mark.parametrize(
    ("url", "entry"),
    [
        ("http://127.0.0.1:8000/mcp", "127.0.0.1"),
        ("http://localhost:8931/mcp", "localhost"),
        ("http://10.0.0.5/mcp", "10.0.0.0/8"),
        ("http://mcp:8080/mcp", "mcp:8080"),  # a compose service: a single-label host
    ],
)
def test_an_internal_server_is_accepted_once_allow_listed(staff_client, settings, url, entry):
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = [entry]

    response = staff_client.post(URL, http_body(url=url), format="json")

    assert response.status_code == 201, response.content
    assert McpServer.objects.get().url == url


# --- updating and unregistering --------------------------------------------------------


def test_staff_updates_a_server_partially_and_fully(staff_client, server):
    patched = staff_client.patch(
        detail("remote"), {"description": "Team tools", "requires_approval": False}, format="json"
    )
    put = staff_client.put(
        detail("remote"),
        http_body(url="https://other.example.com/mcp", description="Replaced"),
        format="json",
    )

    assert patched.status_code == 200, patched.content
    assert (patched.json()["description"], patched.json()["requires_approval"]) == (
        "Team tools",
        False,
    )
    assert put.status_code == 200, put.content
    server.refresh_from_db()
    assert (server.url, server.description) == ("https://other.example.com/mcp", "Replaced")


def test_read_only_fields_cannot_be_written(staff_client, server):
    response = staff_client.patch(
        detail("remote"),
        {"status": "healthy", "tools": [{"name": "evil"}], "last_error": "", "description": "x"},
        format="json",
    )

    assert response.status_code == 200, response.content
    server.refresh_from_db()
    assert (server.status, server.tools, server.description) == ("unknown", [], "x")


def test_changing_the_endpoint_forgets_the_last_health(staff_client, server):
    McpServer.objects.filter(pk=server.pk).update(status="unhealthy", last_error="refused")

    response = staff_client.patch(
        detail("remote"), {"url": "https://fixed.example.com/mcp"}, format="json"
    )

    assert (response.json()["status"], response.json()["last_error"]) == ("unknown", "")


def test_unregistering_answers_204_then_404(staff_client, server):
    response = staff_client.delete(detail("remote"))

    assert response.status_code == 204
    assert_envelope(staff_client.get(detail("remote")), 404, "not_found")
    assert not McpServer.objects.exists()


# --- heartbeat -------------------------------------------------------------------------


def test_a_heartbeat_marks_the_server_seen(staff_client, server):
    before = timezone.now()

    response = staff_client.post(f"{URL}heartbeat/", {"name": "remote"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "remote"
    server.refresh_from_db()
    assert server.last_seen_at is not None
    assert server.last_seen_at >= before


def test_a_heartbeat_for_an_unknown_name_is_404(staff_client, server):
    response = staff_client.post(f"{URL}heartbeat/", {"name": "ghost"}, format="json")

    assert_envelope(response, 404, "mcp_server_not_found")


@pytest.mark.parametrize("body", [{}, {"name": 123}, {"name": ""}, {"name": "x" * 33}])
def test_a_heartbeat_without_a_proper_name_is_400(staff_client, server, body):
    response = staff_client.post(f"{URL}heartbeat/", body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {"name"}


def test_a_heartbeat_re_enables_a_server_the_cleanup_disabled(staff_client):
    McpServerFactory(name="remote", enabled=False, disabled_by_cleanup=True, status="unhealthy")

    response = staff_client.post(f"{URL}heartbeat/", {"name": "remote"}, format="json")

    body = response.json()
    assert (body["enabled"], body["disabled_by_cleanup"], body["status"]) == (
        True,
        False,
        "unknown",
    )


def test_a_heartbeat_does_not_re_enable_a_server_a_person_disabled(staff_client, server):
    staff_client.patch(detail("remote"), {"enabled": False}, format="json")

    response = staff_client.post(f"{URL}heartbeat/", {"name": "remote"}, format="json")

    assert response.status_code == 200
    server.refresh_from_db()
    assert server.enabled is False
    assert server.last_seen_at is not None


def test_disabling_by_hand_overrules_the_cleanups_mark(staff_client):
    McpServerFactory(name="remote", enabled=False, disabled_by_cleanup=True)

    staff_client.patch(detail("remote"), {"enabled": False}, format="json")
    staff_client.post(f"{URL}heartbeat/", {"name": "remote"}, format="json")

    assert McpServer.objects.get().enabled is False


# --- cleanup ---------------------------------------------------------------------------


def _seen(name: str, seconds_ago: int | None, **fields: Any) -> McpServer:
    server = McpServerFactory(name=name, **fields)
    seen = None if seconds_ago is None else timezone.now() - timedelta(seconds=seconds_ago)
    created = timezone.now() - timedelta(days=1)
    McpServer.objects.filter(pk=server.pk).update(last_seen_at=seen, created_at=created)
    return server


def test_cleanup_disables_only_the_stale_servers(staff_client):
    _seen("fresh", 10)
    _seen("stale", 3600)
    _seen("never-seen", None)
    _seen("already-off", 3600, enabled=False)

    response = staff_client.post(f"{URL}cleanup/", {"older_than_s": 600}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"disabled": ["never-seen", "stale"]}
    stale = McpServer.objects.get(name="stale")
    assert (stale.enabled, stale.disabled_by_cleanup, stale.status) == (False, True, "unhealthy")
    assert stale.last_error.startswith("not seen since ")
    assert McpServer.objects.get(name="fresh").enabled is True
    assert McpServer.objects.get(name="already-off").disabled_by_cleanup is False


def test_cleanup_respects_older_than_s_and_defaults_to_the_setting(staff_client, settings):
    settings.CONDUCTOR_MCP_STALE_SECONDS = 7200
    _seen("hour-old", 3600)

    by_default = staff_client.post(f"{URL}cleanup/", {}, format="json")
    by_request = staff_client.post(f"{URL}cleanup/", {"older_than_s": 1800}, format="json")

    assert by_default.json() == {"disabled": []}
    assert by_request.json() == {"disabled": ["hour-old"]}


def test_a_server_registered_recently_is_not_stale_before_its_first_heartbeat(staff_client):
    McpServerFactory(name="brand-new")

    response = staff_client.post(f"{URL}cleanup/", {"older_than_s": 600}, format="json")

    assert response.json() == {"disabled": []}


@pytest.mark.parametrize("value", [0, -5, "x", 1.5, None, 10**12, True])
def test_cleanup_refuses_a_bad_older_than_s(staff_client, server, value):
    response = staff_client.post(f"{URL}cleanup/", {"older_than_s": value}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert set(error["details"]) == {"older_than_s"}
    assert McpServer.objects.get().enabled is True


# --- stats -----------------------------------------------------------------------------


def test_stats_count_servers_tools_and_stale_ones(viewer_client, settings):
    settings.CONDUCTOR_MCP_STALE_SECONDS = 600
    settings.CONDUCTOR_MCP_STDIO_COMMANDS = [sys.executable]
    two_tools = [{"name": "a"}, {"name": "b"}]
    _seen("up", 10, status="healthy", tools=two_tools)
    _seen("old", 3600, status="healthy", tools=[{"name": "c"}])
    _seen("off", 10, enabled=False, status="unhealthy", tools=two_tools)
    _seen("local", None, transport="stdio", url="", command=sys.executable)

    response = viewer_client.get(f"{URL}stats/")

    assert response.status_code == 200
    assert response.json() == {
        "total": 4,
        "enabled": 3,
        "disabled": 1,
        "by_status": {"healthy": 2, "unhealthy": 1, "unknown": 1},
        "by_transport": {"stdio": 1, "http": 3},
        "tools": 3,
        "stale": 2,
    }


def test_stats_cost_the_same_queries_for_many_servers(viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get(f"{URL}stats/"),
        lambda count: McpServerFactory.create_batch(count, tools=[{"name": "t"}]),
    )


# --- health, over a real (fake) MCP server ---------------------------------------------


@pytest.mark.slow
def test_a_health_check_over_stdio_caches_the_tools(staff_client, stdio_allowed):
    fake = stdio_body(args=FAKE_SERVER_ARGS, env={"PYTHONPATH": str(BASE_DIR)})
    staff_client.post(URL, fake, format="json")

    response = staff_client.post(detail("local-fake", "health/"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "healthy", body["last_error"]
    assert {"echo", "add", "fail", "sleep", "pid"} <= {tool["name"] for tool in body["tools"]}
    add = next(tool for tool in body["tools"] if tool["name"] == "add")
    assert add["input_schema"]["properties"].keys() == {"a", "b"}
    assert body["last_seen_at"] is not None
    assert body["last_checked_at"] is not None
    assert McpServer.objects.get().status == McpServerStatus.HEALTHY


@pytest.mark.slow
def test_a_health_check_over_http_sends_the_secret_but_never_shows_it(
    staff_client, settings, monkeypatch
):
    from tests.fakes.mcp_server import serve_http

    settings.CONDUCTOR_MCP_CLIENT_ALLOW = ["127.0.0.1"]
    monkeypatch.setenv("MCP_TOKEN", SECRET)
    headers = {"Authorization": "Bearer ${MCP_TOKEN}"}
    with serve_http() as fake:
        staff_client.post(URL, http_body(url=fake.url, headers=headers), format="json")
        response = staff_client.post(detail("remote", "health/"))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "healthy", response.json()["last_error"]
    assert response.json()["headers"] == headers
    assert any(seen.get("authorization") == f"Bearer {SECRET}" for seen in fake.received_headers)
    for page in [response, staff_client.get(URL), staff_client.get(detail("remote"))]:
        assert SECRET not in page.content.decode()


@pytest.mark.slow
def test_a_health_check_of_an_unreachable_server_marks_it_unhealthy(staff_client, settings):
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = ["127.0.0.1"]
    url = f"http://127.0.0.1:{free_port()}/mcp"
    staff_client.post(URL, http_body(url=url, timeout_s=5), format="json")

    response = staff_client.post(detail("remote", "health/"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["last_error"]
    assert body["last_checked_at"] is not None
    assert body["last_seen_at"] is None


def test_a_health_check_of_an_unknown_server_is_404(staff_client):
    assert_envelope(staff_client.post(detail("ghost", "health/")), 404, "not_found")


# --- the OpenAPI schema ----------------------------------------------------------------


def test_the_schema_documents_every_endpoint_without_warnings(capsys):
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    patterns = [path("api/", include("apps.mcp_client.urls"))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    validate_schema(schema)
    assert not GENERATOR_STATS, capsys.readouterr().err
    assert {
        URL,
        f"{URL}{{name}}/",
        f"{URL}{{name}}/health/",
        f"{URL}heartbeat/",
        f"{URL}stats/",
        f"{URL}cleanup/",
    } <= set(schema["paths"])
    server = schema["components"]["schemas"]["McpServer"]["properties"]
    assert server["status"]["readOnly"] is True
