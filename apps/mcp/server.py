"""Conductor's MCP server: the tool table, the resources and the prompt.

Each tool is a thin door (STYLE.md): typed arguments and a docstring for the model, then
one call into ``actions`` (run on a database thread as the acting user) or ``execution``.
The same ``server`` object serves stdio (``manage.py mcp_server``), the standalone HTTP
server and the ``/mcp/`` mount of the project's ASGI app.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError, ToolError
from mcp_types import Resource, ToolAnnotations
from pydantic import Field

from apps.core.health import collect_health
from apps.mcp import actions, content
from apps.mcp.execution import execute
from apps.mcp.identity import as_user
from apps.mcp.schemas import (
    AgentId,
    AgentInfo,
    AgentList,
    BackupWritten,
    Cwd,
    HistoryCleared,
    InputText,
    Restored,
    RunOutcome,
    RuntimeConfigData,
    StorageMigrated,
    SystemConfig,
    SystemReport,
    TemplatesInstalled,
    Timeout,
)

INSTRUCTIONS = """\
Conductor hosts LLM agents. Find one with list_available_agents (its agent_id is what the
other tools take), read it with get_agent_info, and run it: execute_agent_stateless for a
one-off task, start_interactive_session then execute_agent_contextual (with the returned
conversation_id) for a conversation that remembers. Runs report their steps as progress.
Screenplays (project documents) and personas (agents' instructions) are resources.
Backup, restore, storage migration and environment changes need a staff account.
"""

READ_ONLY = ToolAnnotations(read_only_hint=True)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True)
# Resources listed per kind, newest first: a listing, not an export.
RESOURCE_LIST_LIMIT = 200


class ConductorMCPServer(MCPServer[Any]):
    """Lists screenplays and personas as concrete resources, besides the URI templates.

    Any authenticated user may read every alive screenplay and persona (as in the API),
    and the transports admit authenticated callers only, so the listing is the same for all.
    """

    async def list_resources(self) -> list[Resource]:
        listed = await database_sync_to_async(content.listed_resources)(RESOURCE_LIST_LIMIT)
        return [*await super().list_resources(), *listed]


server = ConductorMCPServer(
    name="conductor",
    title="Conductor",
    version=str(settings.VERSION),
    instructions=INSTRUCTIONS,
    website_url=None,
)

F = TypeVar("F", bound=Callable[..., Any])


def tool(annotations: ToolAnnotations) -> Callable[[F], F]:
    """Registers a tool; its docstring, dedented, is the description the model reads."""

    def register(fn: F) -> F:
        server.add_tool(fn, description=inspect.cleandoc(fn.__doc__ or ""), annotations=annotations)
        return fn

    return register


# --- Agents and the system ----------------------------------------------------------


@tool(READ_ONLY)
async def list_available_agents(
    ctx: Context,
    include_inactive: Annotated[
        bool, Field(description="Also list inactive agents (they cannot be executed).")
    ] = False,
) -> AgentList:
    """Lists Conductor's agents: id, name, description, group, tags and model.

    Use the agent_id of one of them with get_agent_info and the execute tools.
    """
    return await as_user(ctx, actions.agents_list, include_inactive=include_inactive)


@tool(READ_ONLY)
async def get_agent_info(agent_id: AgentId, ctx: Context) -> AgentInfo:
    """Describes one agent: its persona, model, tools, limits and whether it is active.

    The persona's full instructions are the resource named in persona.uri; the prompt
    agent_system_prompt renders the whole system prompt a run would start from.
    """
    return await as_user(ctx, actions.agent_info, agent_id=agent_id)


@tool(READ_ONLY)
async def validate_conductor_system() -> SystemReport:
    """Checks that Conductor can run agents and reports each part on its own.

    Checks the database, the channel layer, the Celery broker, the workers and the LLM
    provider keys. status is "ok", "degraded" (only an optional part fails, e.g. no
    worker) or "unavailable" (a required part is down; failing names it).
    """
    return actions.system_report(await collect_health())


# --- Running agents ------------------------------------------------------------------


@tool(WRITES)
async def execute_agent_stateless(
    agent_id: AgentId,
    input_text: InputText,
    ctx: Context,
    cwd: Cwd = None,
    timeout: Timeout = None,  # noqa: ASYNC109 - the tool's argument, named by the spec
) -> RunOutcome:
    """Runs an agent once on a task, with no conversation history, and returns its answer.

    Waits until the run ends (reporting each step as progress) and returns run_id,
    status, result (the final answer), error, duration_ms, tokens and cost. A run that
    fails still returns its outcome: read status and error.
    """
    return await execute(
        ctx,
        actions.run_start_stateless,
        agent_id=agent_id,
        input_text=input_text,
        cwd=cwd,
        timeout=timeout,
    )


@tool(WRITES)
async def execute_agent_contextual(
    agent_id: AgentId,
    input_text: InputText,
    ctx: Context,
    conversation_id: Annotated[
        int | None,
        Field(
            ge=1,
            description="The conversation to continue (from start_interactive_session or an "
            "earlier call); leave out to start a new one.",
        ),
    ] = None,
    clear_history: Annotated[
        bool, Field(description="Forget the conversation's earlier messages before this turn.")
    ] = False,
    timeout: Timeout = None,  # noqa: ASYNC109 - the tool's argument, named by the spec
    cwd: Cwd = None,
) -> RunOutcome:
    """Runs one turn of a conversation: the agent sees the conversation's earlier messages.

    The input and the answer are added to the conversation, so the next call with the
    same conversation_id continues where this one ended. Returns the run's outcome,
    with the conversation_id to pass next time.
    """
    return await execute(
        ctx,
        actions.run_start_contextual,
        agent_id=agent_id,
        input_text=input_text,
        conversation_id=conversation_id,
        clear_history=clear_history,
        cwd=cwd,
        timeout=timeout,
    )


@tool(WRITES)
async def start_interactive_session(
    agent_id: AgentId,
    initial_input: InputText,
    ctx: Context,
    timeout: Timeout = None,  # noqa: ASYNC109 - the tool's argument, named by the spec
    cwd: Cwd = None,
) -> RunOutcome:
    """Starts a conversation with an agent and runs its first turn.

    Returns the first answer and the conversation_id: continue the conversation with
    execute_agent_contextual(agent_id, input_text, conversation_id=...).
    """
    return await execute(
        ctx,
        actions.run_start_contextual,
        agent_id=agent_id,
        input_text=initial_input,
        conversation_id=None,
        clear_history=False,
        cwd=cwd,
        timeout=timeout,
    )


@tool(DESTRUCTIVE)
async def clear_agent_history(agent_id: AgentId, ctx: Context) -> HistoryCleared:
    """Forgets an agent's conversation history: soft-deletes the messages of the
    conversations it took part in (an editor can restore them in the admin).

    Later contextual runs of the agent start without them.
    """
    return await as_user(ctx, actions.agent_history_clear, agent_id=agent_id)


# --- Templates, backups and storage ---------------------------------------------------


@tool(WRITES)
async def install_agent_templates(
    template_name: Annotated[
        str, Field(min_length=1, max_length=100, description="The template set to install.")
    ],
    ctx: Context,
) -> TemplatesInstalled:
    """Installs a bundled template set (e.g. "code-review", "research"): its agents,
    personas and screenplays.

    Installing twice changes nothing: the report counts what was created, updated and
    skipped per kind. An unknown name is answered with the available names. Needs
    permission to add and change agents, personas and screenplays (the Editors group).
    """
    return await as_user(ctx, actions.templates_install, template_name=template_name)


@tool(WRITES)
async def backup_agents(
    ctx: Context,
    path: Annotated[
        str | None,
        Field(
            max_length=1000,
            description="A .json file name in Conductor's backup directory "
            "(CONDUCTOR_BACKUP_DIR); default: a new timestamped one. Replaces a file of "
            "that name.",
        ),
    ] = None,
) -> BackupWritten:
    """Writes a JSON archive of every agent, persona (with its full version history) and
    screenplay to the server's backup directory; returns its path and what it holds.
    Staff only."""
    return await as_user(ctx, actions.agents_backup, path=path)


@tool(DESTRUCTIVE)
async def restore_agents(
    path: Annotated[
        str,
        Field(
            min_length=1,
            max_length=1000,
            description="The archive's path from backup_agents (or a file name in the "
            "backup directory).",
        ),
    ],
    ctx: Context,
) -> Restored:
    """Restores agents, personas (with their full history) and screenplays from an
    archive written by backup_agents.

    Idempotent: rows already as in the archive are skipped; the report counts created,
    updated and skipped rows per kind. Staff only.
    """
    return await as_user(ctx, actions.agents_restore, path=path)


@tool(WRITES)
async def migrate_storage(
    from_alias: Annotated[str, Field(min_length=1, description="Source database alias.")],
    to_alias: Annotated[str, Field(min_length=1, description="Target database alias.")],
    ctx: Context,
) -> StorageMigrated:
    """Copies the agents, personas (with history) and screenplays from one configured
    database alias (e.g. "default") to another, as a backup then a restore would:
    running it twice skips everything the second time. Staff only."""
    return await as_user(ctx, actions.storage_migrate, from_alias=from_alias, to_alias=to_alias)


# --- Runtime configuration -------------------------------------------------------------


@tool(WRITES)
async def set_environment(
    environment: Annotated[
        str,
        Field(min_length=1, max_length=64, description="development, staging or production."),
    ],
    ctx: Context,
    project: Annotated[
        str | None,
        Field(
            max_length=200,
            description="The project this deployment serves; leave out to keep it, "
            "empty to clear it.",
        ),
    ] = None,
) -> RuntimeConfigData:
    """Sets the deployment's environment (and project) in Conductor's runtime
    configuration and returns it. Staff only."""
    return await as_user(ctx, actions.environment_set, environment=environment, project=project)


@tool(READ_ONLY)
async def get_system_config(ctx: Context) -> SystemConfig:
    """Returns what this Conductor runs on: environment and project, version, debug,
    the default model, configured providers, database, channel layer and broker.
    Secrets never appear: provider keys are reported as set (staff see their last four
    characters) and URLs lose their credentials."""
    return await as_user(ctx, actions.config_read)


# --- Resources and the prompt -----------------------------------------------------------


async def _resource(ctx: Context, reader: Any, **arguments: Any) -> str:
    try:
        text: str = await as_user(ctx, reader, **arguments)
    except ToolError as exc:
        raise ResourceNotFoundError(str(exc)) from None
    return text


@server.resource(
    "screenplay://{screenplay_id}",
    name="screenplay",
    title="Screenplay",
    description="A screenplay: the markdown project document agents get as context.",
    mime_type="text/markdown",
)
async def screenplay_resource(screenplay_id: str, ctx: Context) -> str:
    return await _resource(ctx, content.screenplay_markdown, screenplay_id=screenplay_id)


@server.resource(
    "persona://{persona_id}",
    name="persona",
    title="Persona",
    description="A persona: the instructions (markdown) an agent speaks with.",
    mime_type="text/markdown",
)
async def persona_resource(persona_id: str, ctx: Context) -> str:
    return await _resource(ctx, content.persona_markdown, persona_id=persona_id)


@server.prompt(
    name="agent_system_prompt",
    title="An agent's system prompt",
    description=(
        "The full system prompt a run of the agent starts from: its persona, the screenplay as "
        "context, the working directory and its tools (with the reply format for models without "
        "native tool calling)."
    ),
)
async def agent_system_prompt(
    agent_id: Annotated[str, Field(description="The agent's id (its slug).")],
    ctx: Context,
    screenplay_id: Annotated[
        str | None, Field(description="A screenplay to include as context.")
    ] = None,
    cwd: Annotated[str | None, Field(description="The working directory to state.")] = None,
) -> str:
    try:
        prompt: str = await as_user(
            ctx, content.system_prompt, agent_id=agent_id, screenplay_id=screenplay_id, cwd=cwd
        )
    except ToolError as exc:
        raise ValueError(str(exc)) from None
    return prompt
