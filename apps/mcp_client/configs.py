"""Which registered MCP servers a run uses: its agent's ``mcp_configs``, and its instance's.

The servers go under ``"servers"``, by registry name::

    {"servers": {"github": {}, "search": {"required": true}}}

An instance's configs are deep-merged over its agent's (``apps.instances.selectors``): it
may add servers, mark one required, or drop one of the agent's with ``"enabled": false``.
Other top-level keys are kept as they are and ignored by the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from apps.mcp_client.models import McpServer

if TYPE_CHECKING:
    from apps.runs.models import Run

SERVERS_KEY = "servers"
OPTIONS = {"required": bool, "enabled": bool}
MAX_SERVERS = 20


@dataclass(frozen=True)
class ServerUse:
    """A server a run asked for: its registry row (None when no longer registered)."""

    name: str
    required: bool
    server: McpServer | None


def validate_mcp_configs(value: Any) -> None:
    """The ``servers`` entry, when present: registered server names, each with known options."""
    if not isinstance(value, dict) or SERVERS_KEY not in value:
        return  # not an object: the field's own validators say so
    servers = value[SERVERS_KEY]
    if not isinstance(servers, dict):
        raise ValidationError(
            'servers must be an object of server names, e.g. {"servers": {"github": {}}}.',
            code="invalid_servers",
        )
    if len(servers) > MAX_SERVERS:
        raise ValidationError(f"At most {MAX_SERVERS} servers.", code="too_many_servers")
    for name, options in servers.items():
        _validate_options(name, options)
    known = set(McpServer.objects.filter(name__in=list(servers)).values_list("name", flat=True))
    unknown = sorted(set(servers) - known)
    if unknown:
        raise ValidationError(
            "No MCP server is registered as %(names)s (see /api/mcp-servers/).",
            code="unknown_server",
            params={"names": ", ".join(unknown)},
        )


def _validate_options(name: str, options: Any) -> None:
    if not isinstance(options, dict):
        raise ValidationError(
            "servers.%(name)s must be an object of options (required, enabled).",
            code="invalid_server_options",
            params={"name": name},
        )
    for option, value in options.items():
        expected = OPTIONS.get(option)
        if expected is None or not isinstance(value, expected):
            raise ValidationError(
                "servers.%(name)s.%(option)s: the options are required and enabled, both"
                " true or false.",
                code="invalid_server_option",
                params={"name": name, "option": option},
            )


def combined_configs(run: Run) -> dict[str, Any]:
    """The run's instance's combined view (its agent's merged with its own), else its agent's."""
    from apps.instances.selectors import instance_mcp_configs

    if run.instance is not None:  # an instance of the run's agent (run_start checks)
        return instance_mcp_configs(run.instance)["combined"]
    return dict(run.agent.mcp_configs or {})


def run_server_uses(run: Run) -> list[ServerUse]:
    """The servers a run asked for, in name order (an instance may switch one off)."""
    servers = combined_configs(run).get(SERVERS_KEY)
    if not isinstance(servers, dict):
        return []
    wanted = {
        name: bool(options.get("required", False))
        for name, options in servers.items()
        if isinstance(name, str) and isinstance(options, dict) and options.get("enabled", True)
    }
    rows = {row.name: row for row in McpServer.objects.filter(name__in=list(wanted))}
    return [
        ServerUse(name=name, required=required, server=rows.get(name))
        for name, required in sorted(wanted.items())
    ]
