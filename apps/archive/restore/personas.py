"""Restoring personas and their history (see the package's docstring for the rules)."""

from __future__ import annotations

from typing import Any

from apps.archive.entries import PERSONA_FIELDS
from apps.archive.restore.rows import Outcome, Target, clean, differs, stamp, when
from apps.personas.models import Persona, normalize_line_endings


def _save_without_history(persona: Persona, using: str) -> None:
    persona.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        persona.save(using=using)
    finally:
        del persona.skip_history_when_saving  # type: ignore[attr-defined]


def _save_as_new_version(persona: Persona, target: Target) -> None:
    persona._history_user = target.author  # type: ignore[attr-defined]
    persona._change_reason = target.reason  # type: ignore[attr-defined]
    persona.save(using=target.using)


def _persona_version(persona_id: int, entry: dict[str, Any], target: Target, where: str) -> Any:
    fields = {name: entry[name] for name in PERSONA_FIELDS}
    fields["content"] = normalize_line_endings(fields["content"])
    clean(Persona(**fields), where)
    user = entry.get("user")
    return Persona.history.model(
        id=persona_id,
        version=entry["version"],
        history_date=when(entry["history_date"]),
        history_type=entry["history_type"],
        history_change_reason=entry.get("change_reason"),
        history_user_id=target.user_ids.get(user) if user else None,
        created_at=when(entry.get("created_at") or entry["history_date"]),
        updated_at=when(entry.get("updated_at") or entry["history_date"]),
        **fields,
    )


def _add_missing_versions(
    persona: Persona, entries: list[dict[str, Any]], target: Target, where: str
) -> int:
    history = Persona.history.model.objects.using(target.using)
    present = set(history.filter(id=persona.pk).values_list("version", flat=True))
    rows = [
        _persona_version(persona.pk, entry, target, f"{where}.history[{index}]")
        for index, entry in enumerate(entries)
        if entry["version"] not in present
    ]
    history.bulk_create(rows)
    return len(rows)


def _persona_values(entry: dict[str, Any]) -> dict[str, Any]:
    values = {name: entry[name] for name in PERSONA_FIELDS if name in entry}
    if "content" in values:
        values["content"] = normalize_line_endings(values["content"])
    return values


def _newest_version_matches(persona: Persona, using: str) -> bool:
    history = Persona.history.model.objects.using(using).filter(id=persona.pk)
    newest = history.order_by("-version").first()
    return newest is not None and all(
        getattr(newest, name) == getattr(persona, name) for name in PERSONA_FIELDS
    )


def _create_persona(entry: dict[str, Any], target: Target, where: str) -> Outcome:
    persona = Persona(**_persona_values(entry))
    clean(persona, where)
    versions = entry.get("history") or []
    if versions:
        _save_without_history(persona, target.using)
        _add_missing_versions(persona, versions, target, where)
    else:
        _save_as_new_version(persona, target)
    stamp(persona, entry, target.using)
    return "created"


def _update_persona(persona: Persona, entry: dict[str, Any], target: Target, where: str) -> bool:
    values = _persona_values(entry)
    if not differs(persona, values):
        return False
    for name, value in values.items():
        setattr(persona, name, value)
    clean(persona, where)
    if _newest_version_matches(persona, target.using):
        _save_without_history(persona, target.using)
    else:
        _save_as_new_version(persona, target)
    return True


def restore_persona(entry: dict[str, Any], target: Target, where: str) -> Outcome:
    personas = Persona.objects.using(target.using).select_for_update()
    persona = personas.filter(name=entry["name"]).first()
    if persona is None:
        return _create_persona(entry, target, where)
    added = _add_missing_versions(persona, entry.get("history") or [], target, where)
    changed = _update_persona(persona, entry, target, where)
    return "updated" if added or changed else "skipped"
