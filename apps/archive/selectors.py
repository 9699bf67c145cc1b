"""Building an archive: every agent, persona (with its history) and screenplay."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from apps.agents.models import Agent
from apps.archive.entries import agent_entry, persona_entry, screenplay_entry
from apps.archive.schema import ARCHIVE_FORMAT, ARCHIVE_VERSION
from apps.personas.models import Persona
from apps.screenplays.models import Screenplay


def _personas(using: str) -> list[dict[str, Any]]:
    history: dict[int, list[Any]] = defaultdict(list)
    records = Persona.history.model.objects.using(using).select_related("history_user")
    for record in records.order_by("id", "version"):
        history[record.id].append(record)
    personas = Persona.objects.using(using).order_by("name")
    return [persona_entry(persona, history[persona.pk]) for persona in personas]


def archive_build(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """A JSON-serialisable archive of the database ``using``.

    Personas come with every version of their history. Deleted personas are not
    included (nor their leftover history): only what exists can be restored.
    Soft-deleted screenplays are, with their deleted state, so that a round trip
    loses nothing.
    """
    agents = Agent.objects.using(using).select_related("persona").order_by("slug")
    screenplays = Screenplay.all_objects.using(using).order_by("created_at", "uid")
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "created_at": timezone.now().isoformat(),
        "agents": [agent_entry(agent) for agent in agents],
        "personas": _personas(using),
        "screenplays": [screenplay_entry(screenplay) for screenplay in screenplays],
    }


def archive_counts(archive: dict[str, Any]) -> dict[str, int]:
    """How many agents, personas, persona versions and screenplays an archive holds."""
    return {
        "agents": len(archive["agents"]),
        "personas": len(archive["personas"]),
        "persona_versions": sum(len(p.get("history", [])) for p in archive["personas"]),
        "screenplays": len(archive["screenplays"]),
    }
