"""The registry's services hold its rules for every caller: API, admin, tasks, commands."""

from __future__ import annotations

import socket
import sys
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.mcp_client import selectors, services
from apps.mcp_client.client import Probe
from apps.mcp_client.exceptions import McpServerNotFound
from apps.mcp_client.models import McpServer, McpServerStatus
from apps.mcp_client.tasks import check_servers
from tests.factories import McpServerFactory
from tests.subprocesses import BASE_DIR

pytestmark = pytest.mark.django_db

TOOLS = [{"name": "echo", "description": "Echoes", "input_schema": {"type": "object"}}]
FAKE_ARGS = ["-m", "tests.fakes.mcp_server"]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/mcp"


def stdio_fake_server(name: str, **fields: object) -> McpServer:
    return services.server_create(
        actor=None,
        name=name,
        transport="stdio",
        command=sys.executable,
        args=FAKE_ARGS,
        env={"PYTHONPATH": str(BASE_DIR)},
        timeout_s=20,
        **fields,
    )


# --- every write is validated ----------------------------------------------------------


def test_create_refuses_a_command_outside_the_allow_list(settings):
    settings.CONDUCTOR_MCP_STDIO_COMMANDS = [sys.executable]

    with pytest.raises(ValidationError) as caught:
        services.server_create(actor=None, name="shell", transport="stdio", command="/bin/sh")

    assert set(caught.value.message_dict) == {"command"}
    assert not McpServer.objects.exists()


def test_update_refuses_a_loopback_url_in_another_encoding():
    server = McpServerFactory(name="remote")

    with pytest.raises(ValidationError) as caught:
        services.server_update(server=server, actor=None, url="http://0x7f000001/mcp")

    assert "url" in caught.value.message_dict
    assert McpServer.objects.get().url == "https://remote.example/mcp"


def test_create_refuses_a_secret_in_clear():
    with pytest.raises(ValidationError) as caught:
        services.server_create(
            actor=None,
            name="remote",
            transport="http",
            url="https://mcp.example.com/mcp",
            headers={"Authorization": "Bearer abc"},
        )

    assert set(caught.value.message_dict) == {"headers"}


def test_create_records_who_registered_the_server(staff):
    server = services.server_create(
        actor=staff, name="remote", transport="http", url="https://mcp.example.com/mcp"
    )

    assert McpServer.objects.get(pk=server.pk).created_by == staff


def test_an_edit_that_keeps_the_endpoint_keeps_the_health():
    server = McpServerFactory(name="remote", status=McpServerStatus.HEALTHY, tools=TOOLS)

    services.server_update(server=server, actor=None, description="now documented", url=server.url)

    server.refresh_from_db()
    assert (server.status, server.tools) == (McpServerStatus.HEALTHY, TOOLS)


# --- recording a probe -----------------------------------------------------------------


def test_a_successful_probe_makes_the_server_healthy_with_its_tools():
    server = McpServerFactory(name="remote", status="unhealthy", last_error="refused")

    services.server_record_probe(server=server, probe=Probe(ok=True, tools=TOOLS))

    server.refresh_from_db()
    assert (server.status, server.tools, server.last_error) == ("healthy", TOOLS, "")
    assert server.last_seen_at is not None
    assert server.last_checked_at == server.last_seen_at


def test_a_failed_probe_keeps_the_tools_listed_last_time():
    server = McpServerFactory(name="remote", status="healthy", tools=TOOLS)
    seen = timezone.now() - timedelta(hours=1)
    McpServer.objects.filter(pk=server.pk).update(last_seen_at=seen)
    server.refresh_from_db()

    services.server_record_probe(
        server=server, probe=Probe(ok=False, tools=[], error="connection refused")
    )

    server.refresh_from_db()
    assert (server.status, server.tools, server.last_error) == (
        "unhealthy",
        TOOLS,
        "connection refused",
    )
    assert server.last_seen_at == seen
    assert server.last_checked_at is not None
    assert server.last_checked_at > seen


def test_recording_a_probe_keeps_an_edit_made_while_it_ran():
    server = McpServerFactory(name="remote")
    McpServer.objects.filter(pk=server.pk).update(enabled=False, description="edited meanwhile")

    services.server_record_probe(server=server, probe=Probe(ok=True, tools=TOOLS))

    server.refresh_from_db()
    assert (server.enabled, server.description, server.status) == (
        False,
        "edited meanwhile",
        "healthy",
    )


def test_a_probe_error_quoting_a_resolved_secret_is_stored_without_it(monkeypatch):
    monkeypatch.setenv("MCP_TOKEN", "s3cr3t-token-value")
    server = McpServerFactory(name="remote", headers={"Authorization": "Bearer ${MCP_TOKEN}"})

    services.server_record_probe(
        server=server,
        probe=Probe(ok=False, tools=[], error="401 for Bearer s3cr3t-token-value"),
    )

    server.refresh_from_db()
    assert server.last_error == "401 for Bearer ${MCP_TOKEN}"


# --- heartbeat and cleanup -------------------------------------------------------------


def test_a_heartbeat_for_an_unknown_name_raises_not_found():
    with pytest.raises(McpServerNotFound):
        services.server_heartbeat(name="ghost")


def test_cleanup_counts_a_server_never_seen_from_its_registration():
    old = McpServerFactory(name="old")
    McpServerFactory(name="new")
    registered = timezone.now() - timedelta(hours=2)
    McpServer.objects.filter(pk=old.pk).update(created_at=registered)

    disabled = services.servers_cleanup(older_than_s=3600)

    assert disabled == ["old"]
    old.refresh_from_db()
    assert old.last_error == (
        f"not seen since {registered.isoformat(timespec='seconds')} (registered, never seen)"
    )


def test_cleanup_then_heartbeat_brings_a_server_back():
    server = McpServerFactory(name="flaky")
    McpServer.objects.filter(pk=server.pk).update(last_seen_at=timezone.now() - timedelta(hours=2))

    assert services.servers_cleanup(older_than_s=3600) == ["flaky"]
    assert services.servers_cleanup(older_than_s=3600) == []
    services.server_heartbeat(name="flaky")

    server.refresh_from_db()
    assert (server.enabled, server.disabled_by_cleanup, server.last_error) == (True, False, "")
    assert selectors.servers_stats()["stale"] == 0


def test_enabling_or_disabling_by_hand_clears_the_cleanups_mark():
    McpServerFactory(name="a", enabled=False, disabled_by_cleanup=True)
    McpServerFactory(name="b", enabled=False, disabled_by_cleanup=True)

    services.servers_set_enabled(
        servers=McpServer.objects.filter(name="a"), enabled=False, actor=None
    )
    services.server_heartbeat(name="a")
    services.server_heartbeat(name="b")

    assert dict(McpServer.objects.values_list("name", "enabled")) == {"a": False, "b": True}


# --- health checks, over the fake MCP server -------------------------------------------


@pytest.mark.slow
def test_a_health_check_over_stdio_lists_the_fake_servers_tools(stdio_allowed):
    server = stdio_fake_server("local")

    services.server_check_health(server=server)

    server.refresh_from_db()
    assert server.status == McpServerStatus.HEALTHY, server.last_error
    assert {"echo", "add", "fail", "sleep", "pid"} <= {tool["name"] for tool in server.tools}
    assert server.last_seen_at is not None


@pytest.mark.slow
def test_the_beat_task_checks_every_enabled_server_and_skips_disabled_ones(stdio_allowed, settings):
    settings.CONDUCTOR_MCP_CLIENT_ALLOW = ["127.0.0.1"]
    up = stdio_fake_server("up")
    down = services.server_create(
        actor=None, name="down", transport="http", url=closed_port_url(), timeout_s=5
    )
    off = stdio_fake_server("off", enabled=False)

    statuses = check_servers()

    assert statuses == {"up": "healthy", "down": "unhealthy"}
    up.refresh_from_db()
    down.refresh_from_db()
    off.refresh_from_db()
    assert (up.status, up.last_error) == ("healthy", "")
    assert up.tools
    assert down.status == "unhealthy"
    assert down.last_error
    assert down.last_checked_at is not None
    assert (off.status, off.last_checked_at, off.tools) == ("unknown", None, [])


def test_the_beat_task_is_registered_under_the_scheduled_name(settings):
    from celery import current_app

    entry = settings.CELERY_BEAT_SCHEDULE["check-mcp-servers"]

    assert entry["task"] == "mcp_client.check_servers"
    assert current_app.tasks[entry["task"]].name == check_servers.name


def test_the_beat_task_with_no_enabled_server_does_nothing():
    McpServerFactory(name="off", enabled=False)

    assert check_servers() == {}
    assert McpServer.objects.get().last_checked_at is None
