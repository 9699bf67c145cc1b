"""Restoring agents; their persona is named, and restored (or found) first."""

from __future__ import annotations

from typing import Any

from apps.agents.models import Agent
from apps.archive.entries import AGENT_FIELDS
from apps.archive.exceptions import InvalidArchive
from apps.archive.restore.rows import Outcome, Target, clean, differs, stamp
from apps.personas.models import Persona


def _persona_named(name: str | None, using: str, where: str) -> Persona | None:
    if name is None:
        return None
    persona = Persona.objects.using(using).filter(name=name).first()
    if persona is None:
        raise InvalidArchive(
            f"The archive is invalid: {where}: there is no persona named {name!r} in the "
            "archive or the database.",
            details={where: {"persona": [f"unknown persona {name!r}"]}},
        )
    return persona


def _agent_values(entry: dict[str, Any], using: str, where: str) -> dict[str, Any]:
    values = {name: entry[name] for name in AGENT_FIELDS if name in entry}
    if "persona" in values:
        values["persona"] = _persona_named(values["persona"], using, where)
    return values


def restore_agent(entry: dict[str, Any], target: Target, where: str) -> Outcome:
    using = target.using
    values = _agent_values(entry, using, where)
    agent = Agent.objects.using(using).select_for_update().filter(slug=entry["slug"]).first()
    outcome: Outcome = "created" if agent is None else "updated"
    if agent is None:
        agent = Agent()
        agent._state.db = using
    elif not differs(agent, values):
        return "skipped"
    for name, value in values.items():
        setattr(agent, name, value)
    clean(agent, where)
    agent.save(using=using)
    if outcome == "created":
        stamp(agent, entry, using)
    return outcome
