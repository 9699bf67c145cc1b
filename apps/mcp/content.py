"""What the MCP resources and the prompt read: screenplays, personas, an agent's system prompt."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import Resource

from apps.mcp.actions import agent_by_id
from apps.personas.models import Persona
from apps.runtime.llm import supports_native_tools
from apps.runtime.prompt import build_system_prompt
from apps.runtime.tools import registry
from apps.screenplays.models import Screenplay

MARKDOWN = "text/markdown"


def _pk(value: str | None, kind: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise ToolError(f"No {kind} {value!r}: ids are numbers.") from None


def _screenplay(screenplay_id: str | None) -> Screenplay:
    # The default manager leaves soft-deleted screenplays out, as the API does.
    screenplay = Screenplay.objects.filter(pk=_pk(screenplay_id, "screenplay")).first()
    if screenplay is None:
        raise ToolError(f"No screenplay {screenplay_id}.")
    return screenplay


def screenplay_markdown(*, user: AbstractBaseUser, screenplay_id: str) -> str:
    return _screenplay(screenplay_id).content


def persona_markdown(*, user: AbstractBaseUser, persona_id: str) -> str:
    persona = Persona.objects.filter(pk=_pk(persona_id, "persona")).first()
    if persona is None:
        raise ToolError(f"No persona {persona_id}.")
    return persona.content


def listed_resources(limit: int) -> list[Resource]:
    """The newest ``limit`` alive screenplays and personas, as resources."""
    screenplays = Screenplay.objects.order_by("-updated_at", "-id")[:limit]
    personas = Persona.objects.order_by("-updated_at", "-id")[:limit]
    return [
        *(
            Resource(
                uri=f"screenplay://{screenplay.pk}",
                name=f"screenplay-{screenplay.pk}",
                title=screenplay.name,
                description=screenplay.description or None,
                mime_type=MARKDOWN,
            )
            for screenplay in screenplays
        ),
        *(
            Resource(
                uri=f"persona://{persona.pk}",
                name=f"persona-{persona.pk}",
                title=persona.name,
                mime_type=MARKDOWN,
            )
            for persona in personas
        ),
    ]


def system_prompt(
    *, user: AbstractBaseUser, agent_id: str, screenplay_id: str | None, cwd: str | None
) -> str:
    """The system prompt a run of the agent starts from, as ``apps.runs.execution`` builds it."""
    agent = agent_by_id(agent_id)
    screenplay = _screenplay(screenplay_id) if screenplay_id else None
    persona = agent.persona
    return build_system_prompt(
        persona=persona.content if persona is not None else None,
        screenplay=screenplay.content if screenplay is not None else None,
        conversation_context=None,
        tools=registry.definitions(agent.tools),
        json_protocol=not supports_native_tools(agent.model),
        cwd=cwd or (screenplay.working_directory if screenplay is not None else "") or "(not set)",
    )
