"""Demo content: a small team a newcomer can look at and run."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from apps.agents.models import Agent
from apps.agents.services import agent_create
from apps.personas.models import Persona
from apps.personas.services import persona_create
from apps.runtime.providers import default_model
from apps.screenplays.models import Screenplay
from apps.screenplays.services import screenplay_create

DEMO_REASON = "demo content"

PERSONAS = {
    "Helpful assistant": (
        "# Helpful assistant\n\nYou answer clearly and briefly. When you are unsure, say so.\n"
    ),
    "Careful reviewer": (
        "# Careful reviewer\n\nYou review code and prose for bugs, risks and unclear wording.\n"
        "List findings from most to least important.\n"
    ),
    "Portfolio guide": (
        "# Portfolio guide\n\nYou talk with visitors of the team's public portfolio. Answer their\n"
        "questions about the team's work in a friendly, brief way. Never invent projects,\n"
        "clients or figures: when you do not know, say so and suggest getting in touch.\n"
    ),
}

SCREENPLAY = """# Welcome to Conductor

This screenplay is the shared context of the demo team.

## Goals

- Show how agents, personas and screenplays fit together.
- Keep answers short.
"""

AGENTS: list[dict[str, Any]] = [
    {
        "slug": "assistant",
        "name": "Assistant",
        "emoji": "🤖",
        "description": "Answers general questions briefly and clearly.",
        "group": "demo",
        "tags": ["general", "questions"],
        "persona": "Helpful assistant",
        "tools": ["list_agents"],
    },
    {
        "slug": "code_reviewer",
        "name": "Code Reviewer",
        "emoji": "🔍",
        "description": "Reviews code and pull requests for bugs and risks.",
        "group": "demo",
        "tags": ["code", "review", "python"],
        "persona": "Careful reviewer",
    },
    {
        # The agent of the public portfolio chat (CONDUCTOR_PORTFOLIO_AGENT): no tools.
        "slug": "portfolio",
        "name": "Portfolio Guide",
        "emoji": "👋",
        "description": "Answers visitors' questions about the team's work, in the public chat.",
        "group": "demo",
        "tags": ["portfolio", "public"],
        "persona": "Portfolio guide",
        "tools": [],
    },
]


def demo_model() -> str:
    """The model of agents Conductor ships (demo team, template sets): CONDUCTOR_DEMO_MODEL,
    else the default model."""
    return settings.CONDUCTOR_DEMO_MODEL or default_model()


def _persona(name: str) -> Persona:
    existing = Persona.objects.filter(name=name).first()
    if existing is not None:
        return existing
    return persona_create(actor=None, name=name, content=PERSONAS[name], change_reason=DEMO_REASON)


def _screenplay() -> None:
    if Screenplay.all_objects.filter(name="Welcome to Conductor").exists():
        return
    workspace = settings.DATA_DIR / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    screenplay_create(
        name="Welcome to Conductor",
        description="Shared context for the demo team.",
        tags=["demo"],
        content=SCREENPLAY,
        working_directory=str(workspace.resolve()),
    )


@transaction.atomic
def seed_demo_team() -> None:
    _screenplay()
    model = demo_model()
    for spec in AGENTS:
        if Agent.objects.filter(slug=spec["slug"]).exists():
            continue
        fields = {**spec, "persona": _persona(spec["persona"])}
        agent_create(actor=None, model=model, **fields)
