"""Writes to the registry of external MCP servers; every door (API, admin, tasks) calls these."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.types import Actor, user_or_none
from apps.mcp_client import references
from apps.mcp_client.exceptions import McpServerNotFound
from apps.mcp_client.models import McpServer, McpServerStatus
from apps.mcp_client.selectors import not_seen_since, stale_cutoff

if TYPE_CHECKING:
    from apps.mcp_client.client import Probe

# What connecting to a server depends on: a change makes its last health check moot.
CONNECTION_FIELDS = frozenset({"transport", "command", "args", "env", "url", "headers"})
PROBE_FIELDS = ["status", "tools", "last_seen_at", "last_checked_at", "last_error"]
MAX_PARALLEL_PROBES = 8
LAST_ERROR_MAX_CHARS = 2000


def server_save(*, server: McpServer, actor: Actor, changed: Collection[str] = ()) -> McpServer:
    """Validates (allow-list, URL guard, secret references...) and saves a server the caller
    built or changed; ``changed``: the names of the fields it changed (an edit form's)."""
    if server._state.adding and server.created_by_id is None:
        server.created_by = user_or_none(actor)
    if not server._state.adding and CONNECTION_FIELDS.intersection(changed):
        # Its last check was of another endpoint; the next one says how this one is.
        server.status = McpServerStatus.UNKNOWN
        server.last_error = ""
    if "enabled" in changed:
        # A person decided: the next heartbeat must not overrule them.
        server.disabled_by_cleanup = False
    server.full_clean()
    server.save()
    return server


def server_create(*, actor: Actor, **fields: Any) -> McpServer:
    return server_save(server=McpServer(**fields), actor=actor)


def server_update(*, server: McpServer, actor: Actor, **fields: Any) -> McpServer:
    # Saying "enabled: false" again, of a server the cleanup disabled, is still a decision.
    changed = [
        name
        for name, value in fields.items()
        if name == "enabled" or getattr(server, name) != value
    ]
    for name, value in fields.items():
        setattr(server, name, value)
    return server_save(server=server, actor=actor, changed=changed)


def server_delete(*, server: McpServer, actor: Actor) -> None:
    server.delete()


def servers_set_enabled(*, servers: QuerySet[McpServer], enabled: bool, actor: Actor) -> int:
    """By hand: clears the cleanup's mark, so that a heartbeat does not overrule the choice."""
    return servers.update(enabled=enabled, disabled_by_cleanup=False, updated_at=timezone.now())


def _without_secrets(text: str, server: McpServer) -> str:
    """``text`` with the value of every variable the server references put back as ``${NAME}``.

    The client already scrubs its messages; this holds for any probe, before a row (which
    the API shows) gets the text.
    """
    for name, secret in references.resolved_secrets(server.headers, server.env).items():
        text = text.replace(secret, "${" + name + "}")
    return text


def server_record_probe(*, server: McpServer, probe: Probe) -> McpServer:
    """Writes only the health fields, so that an edit made during the probe is kept."""
    now = timezone.now()
    if probe.ok:
        server.status = McpServerStatus.HEALTHY
        server.tools = probe.tools
        server.last_seen_at = now
        server.last_error = ""
    else:
        # The tools it listed last time are still the best guess at what it offers.
        server.status = McpServerStatus.UNHEALTHY
        server.last_error = _without_secrets(probe.error, server)[:LAST_ERROR_MAX_CHARS]
    server.last_checked_at = now
    server.updated_at = now
    values = {name: getattr(server, name) for name in [*PROBE_FIELDS, "updated_at"]}
    McpServer.objects.filter(pk=server.pk).update(**values)
    return server


def _probe(server: McpServer) -> Probe:
    from apps.mcp_client import client  # the mcp SDK loads with the first check

    return client.probe_sync(server)


def server_check_health(*, server: McpServer) -> McpServer:
    """Connects now (up to the server's timeout) and records what happened."""
    return server_record_probe(server=server, probe=_probe(server))


def servers_check(*, servers: Iterable[McpServer]) -> list[McpServer]:
    """Checks each server, several at a time, and records each result."""
    servers = list(servers)
    if not servers:
        return []
    # Probes only wait on the network or a child process; the rows are written here.
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_PROBES, len(servers))) as pool:
        probes = list(pool.map(_probe, servers))
    return [
        server_record_probe(server=server, probe=probe)
        for server, probe in zip(servers, probes, strict=True)
    ]


def servers_check_all() -> dict[str, str]:
    """Beat's check of every enabled server; returns each one's status."""
    checked = servers_check(servers=McpServer.objects.filter(enabled=True))
    return {server.name: server.status for server in checked}


@transaction.atomic
def server_heartbeat(*, name: str) -> McpServer:
    """The server says it is alive: seen now, and enabled again if the cleanup disabled it."""
    server = McpServer.objects.select_for_update().filter(name=name).first()
    if server is None:
        raise McpServerNotFound(details={"name": name})
    server.last_seen_at = timezone.now()
    fields = ["last_seen_at", "updated_at"]
    if server.disabled_by_cleanup and not server.enabled:
        server.enabled = True
        server.disabled_by_cleanup = False
        # The cleanup's "not seen since" no longer holds; the next check says how it is.
        server.status = McpServerStatus.UNKNOWN
        server.last_error = ""
        fields += ["enabled", "disabled_by_cleanup", "status", "last_error"]
    server.save(update_fields=fields)
    return server


def _not_seen_message(server: McpServer) -> str:
    since: datetime = server.last_seen_at or server.created_at
    stamp = since.isoformat(timespec="seconds")
    return f"not seen since {stamp}" + ("" if server.last_seen_at else " (registered, never seen)")


@transaction.atomic
def servers_cleanup(*, older_than_s: int | None = None) -> list[str]:
    """Disables the enabled servers not seen for ``older_than_s`` seconds (by default
    CONDUCTOR_MCP_STALE_SECONDS); returns their names.

    ``older_than_s`` must keep the cutoff within the calendar (the API caps it).
    """
    stale = McpServer.objects.select_for_update().filter(not_seen_since(stale_cutoff(older_than_s)))
    servers = list(stale.order_by("name"))
    now = timezone.now()
    for server in servers:
        server.last_error = _not_seen_message(server)
        server.enabled = False
        server.disabled_by_cleanup = True
        server.status = McpServerStatus.UNHEALTHY
        server.updated_at = now
    McpServer.objects.bulk_update(
        servers, ["enabled", "disabled_by_cleanup", "status", "last_error", "updated_at"]
    )
    return [server.name for server in servers]
