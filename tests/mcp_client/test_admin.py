"""The MCP servers' admin: registering with the same rules as the API, and health at a click."""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import pytest
from django.utils.html import escape

from apps.mcp_client.models import McpServer
from tests.factories import McpServerFactory
from tests.querycount import assert_constant_queries
from tests.subprocesses import BASE_DIR

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/mcp_client/mcpserver/"
ADD = f"{CHANGELIST}add/"


def add_form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "local",
        "description": "",
        "transport": "stdio",
        "enabled": "on",
        "requires_approval": "on",
        "timeout_s": "20",
        "command": sys.executable,
        "args": '["-m", "tests.fakes.mcp_server"]',
        "env": json.dumps({"PYTHONPATH": str(BASE_DIR)}),
        "url": "",
        "headers": "{}",
        "_save": "Save",
    }
    return data | overrides


def http_form(**overrides: Any) -> dict[str, Any]:
    """The add form of a streamable HTTP server (the stdio fields empty)."""
    return add_form(name="remote", transport="http", command="", args="[]", env="{}", **overrides)


def run_action(client: Any, action: str, *servers: McpServer) -> Any:
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [server.pk for server in servers]},
        follow=True,
    )


def test_the_changelist_lists_servers_with_their_health(admin_client):
    McpServerFactory(name="remote", status="healthy", tools=[{"name": "echo"}])

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert "remote" in html
    assert "Healthy" in html
    assert "Check health now" in html


def test_the_changelist_costs_the_same_queries_for_many_servers(admin_client):
    assert_constant_queries(
        lambda: admin_client.get(CHANGELIST),
        lambda count: McpServerFactory.create_batch(count, tools=[{"name": "t"}]),
    )


def test_the_add_form_renders(admin_client):
    response = admin_client.get(ADD)

    assert response.status_code == 200
    assert b'name="command"' in response.content
    assert b'name="headers"' in response.content


def test_adding_an_allow_listed_stdio_server(admin_client, admin_user, stdio_allowed):
    response = admin_client.post(ADD, add_form())

    assert response.status_code == 302, response.content
    server = McpServer.objects.get(name="local")
    assert (server.command, server.args) == (sys.executable, ["-m", "tests.fakes.mcp_server"])
    assert server.created_by == admin_user


def test_adding_a_command_outside_the_allow_list_shows_the_error(admin_client, stdio_allowed):
    response = admin_client.post(ADD, add_form(command="/bin/sh", args='["-c", "id"]'))

    assert response.status_code == 200
    assert "is not in CONDUCTOR_MCP_STDIO_COMMANDS" in response.content.decode()
    assert not McpServer.objects.exists()


def test_adding_an_http_server_on_a_metadata_address_shows_the_error(admin_client):
    response = admin_client.post(ADD, http_form(url="http://169.254.169.254/latest"))

    assert response.status_code == 200
    assert "169.254.169.254" in response.content.decode()
    assert not McpServer.objects.exists()


def test_adding_a_header_with_a_secret_in_clear_shows_the_error(admin_client):
    form = http_form(url="https://mcp.example.com/mcp", headers='{"Authorization": "Bearer abc"}')

    response = admin_client.post(ADD, form)

    assert response.status_code == 200
    assert "secrets are not stored" in response.content.decode()
    assert not McpServer.objects.exists()


def test_the_change_page_lists_the_cached_tools(admin_client):
    server = McpServerFactory(
        name="remote", tools=[{"name": "search", "description": "Finds <things>"}]
    )

    response = admin_client.get(f"{CHANGELIST}{server.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<code>search</code> Finds &lt;things&gt;" in html


def test_enable_and_disable_actions(admin_client):
    cleaned = McpServerFactory(name="cleaned", enabled=False, disabled_by_cleanup=True)
    on = McpServerFactory(name="on")

    run_action(admin_client, "disable", cleaned, on)
    cleaned.refresh_from_db()
    assert (cleaned.enabled, cleaned.disabled_by_cleanup) == (False, False)
    assert McpServer.objects.get(name="on").enabled is False

    response = run_action(admin_client, "enable", on)
    assert "Enabled 1 server(s)." in response.content.decode()
    assert McpServer.objects.get(name="on").enabled is True


@pytest.mark.slow
def test_check_health_now_connects_and_reports(admin_client, stdio_allowed):
    admin_client.post(ADD, add_form())
    server = McpServer.objects.get(name="local")

    response = run_action(admin_client, "check_health", server)

    assert response.status_code == 200
    assert "Checked 1 server(s): 1 healthy." in response.content.decode()
    server.refresh_from_db()
    assert server.status == "healthy", server.last_error
    assert "echo" in {tool["name"] for tool in server.tools}


def test_check_health_now_reports_why_a_server_is_unhealthy(admin_client, settings):
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = ["127.0.0.1"]
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    server = McpServerFactory(name="down", url=f"http://127.0.0.1:{port}/mcp", timeout_s=5)

    response = run_action(admin_client, "check_health", server)

    html = response.content.decode()
    assert "Checked 1 server(s): 1 unhealthy." in html
    server.refresh_from_db()
    assert server.status == "unhealthy"
    assert escape(f"MCP server down: {server.last_error}") in html


def test_a_user_who_is_not_staff_cannot_open_the_admin(client, viewer):
    client.force_login(viewer)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
