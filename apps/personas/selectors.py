"""Reads of personas and their versions."""

from __future__ import annotations

import difflib
from typing import Any, Literal, TypedDict

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps.personas.exceptions import PersonaVersionNotFound
from apps.personas.models import Persona

HISTORY_TYPE_NAMES = {"+": "created", "~": "changed", "-": "deleted"}

DiffType = Literal["header", "added", "removed", "unchanged"]


class DiffEntry(TypedDict):
    type: DiffType
    content: str


class DiffSummary(TypedDict):
    added: int
    removed: int
    unchanged: int
    change_percentage: float


class VersionDiff(TypedDict):
    differences: list[DiffEntry]
    summary: DiffSummary


def persona_history_model() -> Any:
    return Persona.history.model


def _latest_history(field: str) -> Subquery:
    rows = persona_history_model().objects.filter(id=OuterRef("pk")).order_by("-version")
    return Subquery(rows.values(field)[:1])


def _history_count() -> Subquery:
    rows = persona_history_model().objects.filter(id=OuterRef("pk")).order_by()
    return Subquery(rows.values("id").annotate(total=Count("*")).values("total")[:1])


def personas_with_version_info() -> QuerySet[Persona]:
    """Each persona with ``current_version``, ``version_count`` and ``last_changed_by``."""
    return Persona.objects.annotate(
        current_version=_latest_history("version"),
        version_count=Coalesce(_history_count(), 0),
        last_changed_by=_latest_history("history_user__username"),
    )


def persona_versions(*, persona: Persona) -> QuerySet[Any]:
    """Newest first, with the user of each version in the same query."""
    return persona.history.select_related("history_user").order_by("-version")


def persona_version_get(*, persona: Persona, version: int) -> Any:
    record = persona_versions(persona=persona).filter(version=version).first()
    if record is None:
        raise PersonaVersionNotFound(
            f"Persona {persona.pk} has no version {version}.", details={"version": version}
        )
    return record


def version_header(record: Any, *, marker: str) -> str:
    user = record.history_user.get_username() if record.history_user else "unknown user"
    reason = f" ({record.history_change_reason})" if record.history_change_reason else ""
    when = record.history_date.isoformat(timespec="seconds")
    return f"{marker} version {record.version}, {when}, by {user}{reason}"


def _opcode_entries(tag: str, old: list[str], new: list[str]) -> list[DiffEntry]:
    if tag == "equal":
        return [{"type": "unchanged", "content": line} for line in old]
    removed: list[DiffEntry] = [{"type": "removed", "content": line} for line in old]
    added: list[DiffEntry] = [{"type": "added", "content": line} for line in new]
    return removed + added


def _summary(entries: list[DiffEntry]) -> DiffSummary:
    added = sum(entry["type"] == "added" for entry in entries)
    removed = sum(entry["type"] == "removed" for entry in entries)
    unchanged = sum(entry["type"] == "unchanged" for entry in entries)
    total = added + removed + unchanged
    percentage = round(100 * (added + removed) / total, 2) if total else 0.0
    return {
        "added": added,
        "removed": removed,
        "unchanged": unchanged,
        "change_percentage": percentage,
    }


def line_diff(old_text: str, new_text: str) -> tuple[list[DiffEntry], DiffSummary]:
    """A line diff: changed lines count as one removed and one added line."""
    old, new = old_text.splitlines(), new_text.splitlines()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    entries: list[DiffEntry] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        entries.extend(_opcode_entries(tag, old[i1:i2], new[j1:j2]))
    return entries, _summary(entries)


def persona_versions_diff(*, persona: Persona, version1: int, version2: int) -> VersionDiff:
    first = persona_version_get(persona=persona, version=version1)
    second = persona_version_get(persona=persona, version=version2)
    entries, summary = line_diff(first.content, second.content)
    headers: list[DiffEntry] = [
        {"type": "header", "content": version_header(first, marker="---")},
        {"type": "header", "content": version_header(second, marker="+++")},
    ]
    return {"differences": headers + entries, "summary": summary}
