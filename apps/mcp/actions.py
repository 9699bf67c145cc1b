"""What each MCP tool does, as synchronous functions over the apps' services and selectors.

Each takes the acting ``user`` (see ``identity.as_user``) and the tool's arguments,
looks rows up as the API does, and calls the same service. Nothing here decides what
a service already decides: permissions, validation and limits stay in the services.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from mcp.server.mcpserver.exceptions import ToolError

from apps.agents.models import Agent
from apps.agents.template_sets import agent_templates_install
from apps.archive.services import archive_migrate, archive_restore_file, archive_write
from apps.conversations.models import Conversation
from apps.conversations.selectors import conversations_visible_to
from apps.conversations.services import (
    conversation_create,
    conversation_messages_clear,
    conversation_messages_clear_for_agent,
)
from apps.core.health import HealthReport
from apps.core.runtime_config import runtime_config_set_environment, system_config
from apps.mcp.schemas import (
    AgentInfo,
    AgentList,
    AgentSummary,
    BackupWritten,
    Check,
    HistoryCleared,
    PersonaRef,
    Restored,
    RuntimeConfigData,
    StorageMigrated,
    SystemConfig,
    SystemReport,
    TemplatesInstalled,
)
from apps.runs.models import ContextMode, Run, RunSource
from apps.runs.services import RunRequest, run_start
from apps.runtime.providers import DEMO_MODEL, configured_providers, default_model
from apps.screenplays.models import Screenplay

TITLE_MAX_CHARS = 120


# --- Agents ---------------------------------------------------------------------


def agent_by_id(agent_id: str) -> Agent:
    agent = Agent.objects.select_related("persona").filter(slug=agent_id).first()
    if agent is None:
        raise ToolError(f"No agent with id {agent_id!r}: list_available_agents names them all.")
    return agent


def _summary_fields(agent: Agent) -> dict[str, Any]:
    return {
        "agent_id": agent.slug,
        "name": agent.name,
        "emoji": agent.emoji,
        "description": agent.description,
        "group": agent.group,
        "tags": list(agent.tags),
        "model": agent.model,
        "is_active": agent.is_active,
        "offline_demo": agent.model == DEMO_MODEL,
    }


def agents_list(*, user: AbstractBaseUser, include_inactive: bool) -> AgentList:
    agents = Agent.objects.order_by("group", "name", "pk")
    if not include_inactive:
        agents = agents.filter(is_active=True)
    summaries = [AgentSummary(**_summary_fields(agent)) for agent in agents]
    return AgentList(count=len(summaries), agents=summaries)


def agent_info(*, user: AbstractBaseUser, agent_id: str) -> AgentInfo:
    agent = agent_by_id(agent_id)
    persona = agent.persona
    return AgentInfo(
        **_summary_fields(agent),
        persona=(
            PersonaRef(id=persona.pk, name=persona.name, uri=f"persona://{persona.pk}")
            if persona is not None
            else None
        ),
        tools=list(agent.tools),
        pre_approved_tools=list(agent.pre_approved_tools),
        fallback_models=list(agent.fallback_models),
        max_steps=agent.max_steps,
        mcp_servers=_mcp_server_names(agent.mcp_configs),
        created_at=agent.created_at.isoformat(),
        updated_at=agent.updated_at.isoformat(),
    )


def _mcp_server_names(configs: dict[str, Any]) -> list[str]:
    """The servers' names only: their configs may hold credentials."""
    servers = configs.get("mcpServers", configs.get("servers", configs))
    return sorted(servers) if isinstance(servers, dict) else []


# --- The system -----------------------------------------------------------------


def _providers_check() -> Check:
    providers = configured_providers()
    if providers:
        return Check(ok=True, required=False, detail=f"configured: {', '.join(providers)}")
    detail = f"no provider key or base URL is set: agents run on {DEMO_MODEL}"
    return Check(ok=False, required=False, detail=detail)


def system_report(health: HealthReport) -> SystemReport:
    """``/health``'s checks plus the LLM providers (optional: the offline demo model remains)."""
    checks = {name: Check(**result) for name, result in health["checks"].items()}
    checks["providers"] = _providers_check()
    failing = [name for name, check in checks.items() if not check.ok]
    return SystemReport(
        status=health["status"] if checks["providers"].ok else _degraded(health["status"]),
        failing=failing,
        checks=checks,
        configured_providers=configured_providers(),
        default_model=default_model(),
    )


def _degraded(status: str) -> str:
    return "unavailable" if status == "unavailable" else "degraded"


# --- Runs -----------------------------------------------------------------------


def _cwd(cwd: str | None, screenplay: Screenplay | None) -> str:
    """The cwd asked for, else none (the screenplay's applies), else the MCP default."""
    if cwd:
        return cwd
    if screenplay is not None and screenplay.working_directory:
        return ""
    return str(settings.CONDUCTOR_MCP_DEFAULT_CWD)


def _start(request: RunRequest, user: AbstractBaseUser) -> Run:
    return run_start(
        request=request,
        actor=user,
        source=RunSource.MCP,
        enqueue=not settings.CONDUCTOR_MCP_RUN_INLINE,
    )


def run_start_stateless(
    *, user: AbstractBaseUser, agent_id: str, input_text: str, cwd: str | None, timeout: int | None
) -> Run:
    request = RunRequest(
        agent=agent_by_id(agent_id),
        input=input_text,
        cwd=_cwd(cwd, None),
        context_mode=ContextMode.STATELESS,
        timeout_seconds=timeout or settings.CONDUCTOR_MCP_RUN_TIMEOUT_SECONDS,
    )
    return _start(request, user)


def _visible_conversation(user: AbstractBaseUser, conversation_id: int) -> Conversation:
    conversation = (
        conversations_visible_to(user)
        .select_related("screenplay")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise ToolError(
            f"No conversation {conversation_id} of yours: start one with "
            "start_interactive_session, or leave conversation_id out."
        )
    return conversation


def _new_conversation(user: AbstractBaseUser, agent: Agent, input_text: str) -> Conversation:
    first_line = input_text.strip().splitlines()[0] if input_text.strip() else ""
    title = f"{agent.name}: {first_line}"[:TITLE_MAX_CHARS]
    return conversation_create(actor=user, title=title)


@transaction.atomic
def run_start_contextual(
    *,
    user: AbstractBaseUser,
    agent_id: str,
    input_text: str,
    conversation_id: int | None,
    clear_history: bool,
    cwd: str | None,
    timeout: int | None,
) -> Run:
    """Continues the conversation (a new one without ``conversation_id``) with one turn."""
    agent = agent_by_id(agent_id)
    if conversation_id is None:
        conversation = _new_conversation(user, agent, input_text)
    else:
        conversation = _visible_conversation(user, conversation_id)
    if clear_history:
        conversation_messages_clear(conversation=conversation, actor=user)
    request = RunRequest(
        agent=agent,
        input=input_text,
        conversation=conversation,
        cwd=_cwd(cwd, conversation.screenplay),
        context_mode=ContextMode.CONTEXTUAL,
        timeout_seconds=timeout or settings.CONDUCTOR_MCP_RUN_TIMEOUT_SECONDS,
    )
    return _start(request, user)


def agent_history_clear(*, user: AbstractBaseUser, agent_id: str) -> HistoryCleared:
    agent = agent_by_id(agent_id)
    cleared = conversation_messages_clear_for_agent(agent=agent, actor=user)
    return HistoryCleared(agent_id=agent.slug, messages_cleared=cleared)


# --- Templates, archives and runtime configuration -------------------------------


def templates_install(*, user: AbstractBaseUser, template_name: str) -> TemplatesInstalled:
    report = agent_templates_install(name=template_name, actor=user)
    return TemplatesInstalled.model_validate({"template": template_name, **report.as_dict()})


def agents_backup(*, user: AbstractBaseUser, path: str | None) -> BackupWritten:
    return BackupWritten.model_validate(archive_write(path=path, actor=user))


def agents_restore(*, user: AbstractBaseUser, path: str) -> Restored:
    report = archive_restore_file(path=path, actor=user)
    return Restored.model_validate({"path": path, **report.as_dict()})


def storage_migrate(*, user: AbstractBaseUser, from_alias: str, to_alias: str) -> StorageMigrated:
    return StorageMigrated(**archive_migrate(from_alias=from_alias, to_alias=to_alias, actor=user))


def environment_set(
    *, user: AbstractBaseUser, environment: str, project: str | None
) -> RuntimeConfigData:
    data = runtime_config_set_environment(environment=environment, project=project, actor=user)
    return RuntimeConfigData.model_validate(data)


def config_read(*, user: AbstractBaseUser) -> SystemConfig:
    return system_config(actor=user)
