"""Rows as archive entries: JSON values, and natural keys instead of database ids.

Derived columns (a screenplay's content hash and file key, the deletion batch that
links rows outside the archive) are left out; a restore recomputes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from apps.agents.models import Agent
from apps.personas.models import Persona
from apps.screenplays.models import Screenplay
from apps.screenplays.services import WRITABLE_FIELDS as SCREENPLAY_WRITABLE_FIELDS

AGENT_FIELDS = (
    "slug",
    "name",
    "emoji",
    "description",
    "group",
    "tags",
    "persona",
    "model",
    "fallback_models",
    "tools",
    "pre_approved_tools",
    "mcp_configs",
    "max_steps",
    "is_active",
)
PERSONA_FIELDS = ("name", "content", "metadata")
SCREENPLAY_FIELDS = (*SCREENPLAY_WRITABLE_FIELDS, "version", "last_used_at")
DELETION_FIELDS = ("is_deleted", "deleted_at", "deletion_reason")
TIMESTAMP_FIELDS = ("created_at", "updated_at")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _timestamps(row: Any) -> dict[str, str | None]:
    return {field: iso(getattr(row, field)) for field in TIMESTAMP_FIELDS}


def agent_entry(agent: Agent) -> dict[str, Any]:
    entry = {field: getattr(agent, field) for field in AGENT_FIELDS if field != "persona"}
    entry["persona"] = agent.persona.name if agent.persona is not None else None
    return {**entry, **_timestamps(agent)}


def persona_version_entry(record: Any) -> dict[str, Any]:
    user = record.history_user
    return {
        "version": record.version,
        "history_date": iso(record.history_date),
        "history_type": record.history_type,
        "change_reason": record.history_change_reason,
        "user": user.get_username() if user is not None else None,
        **{field: getattr(record, field) for field in PERSONA_FIELDS},
        **_timestamps(record),
    }


def persona_entry(persona: Persona, history: list[Any]) -> dict[str, Any]:
    """``history``: the persona's historical rows, oldest version first."""
    return {
        **{field: getattr(persona, field) for field in PERSONA_FIELDS},
        **_timestamps(persona),
        "history": [persona_version_entry(record) for record in history],
    }


def screenplay_entry(screenplay: Screenplay) -> dict[str, Any]:
    fields = {field: getattr(screenplay, field) for field in SCREENPLAY_FIELDS}
    fields["last_used_at"] = iso(screenplay.last_used_at)
    return {
        "uid": str(screenplay.uid),
        **fields,
        "is_deleted": screenplay.is_deleted,
        "deleted_at": iso(screenplay.deleted_at),
        "deletion_reason": screenplay.deletion_reason,
        **_timestamps(screenplay),
    }
