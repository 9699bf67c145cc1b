"""Restoring screenplays, soft-deleted ones included."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from apps.archive.entries import SCREENPLAY_FIELDS
from apps.archive.exceptions import ArchiveConflict
from apps.archive.restore.rows import Outcome, Target, clean, differs, stamp, when
from apps.core.soft_delete import restore_tree, soft_delete_tree
from apps.screenplays.markdown_validation import normalize_newlines
from apps.screenplays.models import Screenplay
from apps.screenplays.paths import file_key_for_path, sanitize_path
from apps.screenplays.services import PATH_FIELDS, content_hash


def _screenplay_values(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry's fields, normalised as the screenplay services store them."""
    values = {name: entry[name] for name in SCREENPLAY_FIELDS if name in entry}
    if "last_used_at" in values:
        values["last_used_at"] = when(values["last_used_at"])
    if "name" in values:
        values["name"] = values["name"].strip()
    if "content" in values:
        values["content"] = normalize_newlines(values["content"])
    for name in PATH_FIELDS:
        if name in values:
            values[name] = sanitize_path(values[name])
    return values


def _ensure_file_free(screenplay: Screenplay, using: str, where: str) -> None:
    """An active screenplay's file may not be another active screenplay's."""
    if not screenplay.file_key:
        return
    others = Screenplay.objects.using(using).filter(file_key=screenplay.file_key)
    other = others.exclude(pk=screenplay.pk).first()
    if other is not None:
        raise ArchiveConflict(
            f"{where}: the active screenplay {other.name!r} (id {other.pk}) already uses "
            f"the file {screenplay.file_path!r}.",
            details={"entry": where, "screenplay_id": other.pk},
        )


def _save_screenplay(screenplay: Screenplay, using: str, where: str) -> None:
    screenplay.content_hash = content_hash(screenplay.content)
    screenplay.file_key = file_key_for_path(screenplay.file_path)
    clean(screenplay, where)
    if not screenplay.is_deleted:
        _ensure_file_free(screenplay, using, where)
    screenplay.save(using=using)


def _create_screenplay(entry: dict[str, Any], target: Target, where: str) -> Outcome:
    screenplay = Screenplay(uid=uuid.UUID(entry["uid"]), **_screenplay_values(entry))
    if entry.get("is_deleted"):
        screenplay.is_deleted = True
        screenplay.deleted_at = when(entry.get("deleted_at")) or timezone.now()
        screenplay.deletion_reason = entry.get("deletion_reason", "")
    _save_screenplay(screenplay, target.using, where)
    stamp(screenplay, entry, target.using)
    return "created"


def _update_screenplay_fields(
    screenplay: Screenplay, entry: dict[str, Any], using: str, where: str
) -> bool:
    values = _screenplay_values(entry)
    if not differs(screenplay, values):
        return False
    if screenplay.content != values.get("content", screenplay.content) and "version" not in values:
        screenplay.version += 1
    for name, value in values.items():
        setattr(screenplay, name, value)
    _save_screenplay(screenplay, using, where)
    return True


def _switch_deleted_state(
    screenplay: Screenplay, entry: dict[str, Any], using: str, where: str
) -> bool:
    """Deletes or restores through the soft-delete cascade, as the screenplay services do."""
    if "is_deleted" not in entry or entry["is_deleted"] == screenplay.is_deleted:
        return False
    if entry["is_deleted"]:
        soft_delete_tree(screenplay, reason=entry.get("deletion_reason", ""))
    else:
        _ensure_file_free(screenplay, using, where)
        restore_tree(screenplay)
    return True


def _align_deletion_details(screenplay: Screenplay, entry: dict[str, Any], using: str) -> bool:
    if not screenplay.is_deleted:
        return False
    wanted: dict[str, Any] = {}
    if "deleted_at" in entry and when(entry["deleted_at"]) != screenplay.deleted_at:
        wanted["deleted_at"] = when(entry["deleted_at"])
    if "deletion_reason" in entry and entry["deletion_reason"] != screenplay.deletion_reason:
        wanted["deletion_reason"] = entry["deletion_reason"]
    if wanted:
        Screenplay.all_objects.using(using).filter(pk=screenplay.pk).update(**wanted)
    return bool(wanted)


def restore_screenplay(entry: dict[str, Any], target: Target, where: str) -> Outcome:
    using = target.using
    screenplays = Screenplay.all_objects.using(using).select_for_update()
    screenplay = screenplays.filter(uid=uuid.UUID(entry["uid"])).first()
    if screenplay is None:
        return _create_screenplay(entry, target, where)
    changed = _update_screenplay_fields(screenplay, entry, using, where)
    changed = _switch_deleted_state(screenplay, entry, using, where) or changed
    changed = _align_deletion_details(screenplay, entry, using) or changed
    return "updated" if changed else "skipped"
