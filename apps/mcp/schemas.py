"""What the MCP tools take and return.

Argument types become the tools' input schemas; results become their output schemas and
structured content.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

# --- Arguments ---------------------------------------------------------------------

AgentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="The agent's id (its slug, e.g. 'code_reviewer'), from list_available_agents.",
    ),
]
InputText = Annotated[str, Field(min_length=1, description="The task or message for the agent.")]
Timeout = Annotated[
    int | None,
    Field(
        ge=1,
        le=3600,
        description="Seconds the run may take (and the call waits); default "
        "CONDUCTOR_MCP_RUN_TIMEOUT_SECONDS.",
    ),
]
Cwd = Annotated[
    str | None,
    Field(
        max_length=500,
        description="Absolute working directory for the run; default: the screenplay's, "
        "else CONDUCTOR_MCP_DEFAULT_CWD.",
    ),
]


# --- Results -----------------------------------------------------------------------


class PersonaRef(BaseModel):
    id: int
    name: str
    uri: str = Field(description="Read the persona's instructions from this resource.")


class AgentSummary(BaseModel):
    agent_id: str = Field(description="The agent's id (its slug): pass it to the other tools.")
    name: str
    emoji: str
    description: str
    group: str
    tags: list[str]
    model: str = Field(description="The litellm model the agent runs on.")
    is_active: bool = Field(description="Only active agents can be executed.")
    offline_demo: bool = Field(
        description="True when the model is Conductor's offline demo model, not a real LLM."
    )


class AgentList(BaseModel):
    count: int
    agents: list[AgentSummary]


class AgentInfo(AgentSummary):
    persona: PersonaRef | None = Field(description="Who the agent speaks as, if anyone.")
    tools: list[str] = Field(description="Tools the agent may call.")
    pre_approved_tools: list[str] = Field(description="Tools it may call without a human.")
    fallback_models: list[str]
    max_steps: int
    mcp_servers: list[str] = Field(description="Names of the MCP servers configured for it.")
    created_at: str
    updated_at: str


class Check(BaseModel):
    ok: bool
    required: bool = Field(description="Whether Conductor is unavailable while this fails.")
    detail: str
    latency_ms: float = 0.0


class SystemReport(BaseModel):
    status: str = Field(description="ok, degraded (an optional check fails) or unavailable.")
    failing: list[str]
    checks: dict[str, Check] = Field(
        description="database, channel_layer, broker, workers and providers."
    )
    configured_providers: list[str]
    default_model: str


class RunOutcome(BaseModel):
    run_id: str
    agent_id: str
    status: str = Field(
        description="succeeded, failed, cancelled or timed_out; queued, running or "
        "requires_approval when the call stopped waiting first."
    )
    finished: bool
    result: str = Field(description="The agent's final answer (empty unless succeeded).")
    error: str
    duration_ms: int | None
    conversation_id: int | None = Field(
        description="The conversation a contextual run belongs to: pass it to "
        "execute_agent_contextual to continue."
    )
    model: str
    offline_demo: bool
    total_tokens: int
    cost_usd: str
    note: str = Field(default="", description="Why the call returned before the run finished.")


class HistoryCleared(BaseModel):
    agent_id: str
    messages_cleared: int = Field(description="Messages soft-deleted (restorable by an editor).")


# The services below own these shapes; keys they add later pass through.


class ServiceResult(BaseModel):
    model_config = ConfigDict(extra="allow")


class Counts(ServiceResult):
    agents: int = 0
    personas: int = 0
    screenplays: int = 0


class RestoreCounts(ServiceResult):
    created: Counts = Field(description="Rows the archive added, per kind.")
    updated: Counts = Field(description="Rows the archive changed, per kind.")
    skipped: Counts = Field(description="Rows already as in the archive, per kind.")


class TemplatesInstalled(RestoreCounts):
    template: str


class BackupWritten(ServiceResult):
    path: str = Field(description="The archive file: pass it to restore_agents.")
    agents: int
    personas: int
    persona_versions: int
    screenplays: int


class Restored(RestoreCounts):
    path: str


class StorageMigrated(RestoreCounts):
    from_alias: str
    to_alias: str


class RuntimeConfigData(ServiceResult):
    environment: str
    project: str
    updated_by: str | None
    updated_at: str | None


SystemConfig = dict[str, Any]
