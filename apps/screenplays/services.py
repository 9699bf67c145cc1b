"""Every write to a screenplay, whichever door it comes through."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.soft_delete import restore_tree, soft_delete_tree
from apps.screenplays.exceptions import (
    DuplicateScreenplay,
    InvalidMarkdown,
    MarkdownWarningsNotForced,
    ScreenplayNotDeleted,
)
from apps.screenplays.markdown_validation import normalize_newlines, validate_markdown
from apps.screenplays.models import NAME_MAX_LENGTH, Screenplay
from apps.screenplays.paths import file_key_for_path, renamed_file_path, sanitize_path
from apps.screenplays.selectors import screenplay_with_content_hash, screenplay_with_file_key

# In the order a form shows them.
WRITABLE_FIELDS = (
    "name",
    "description",
    "tags",
    "content",
    "working_directory",
    "file_path",
    "import_path",
    "export_path",
)
PATH_FIELDS = ("file_path", "import_path", "export_path")
COPY_SUFFIX = " (copy)"
MAX_COPY_ATTEMPTS = 100


class StoredState(NamedTuple):
    """What a save compares against: the row's content and file key as stored."""

    content: str
    file_key: str


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


@transaction.atomic
def screenplay_create(
    *,
    name: str,
    content: str,
    description: str = "",
    tags: list[str] | None = None,
    working_directory: str = "",
    file_path: str = "",
    import_path: str = "",
    export_path: str = "",
    force: bool = False,
) -> Screenplay:
    screenplay = Screenplay(
        name=name,
        content=content,
        description=description,
        tags=[] if tags is None else tags,
        working_directory=working_directory,
        file_path=file_path,
        import_path=import_path,
        export_path=export_path,
    )
    screenplay_prepare(screenplay=screenplay, previous=None, force=force)
    _save_claiming_file_key(screenplay)
    return screenplay


@transaction.atomic
def screenplay_update(
    *, screenplay: Screenplay, data: Mapping[str, Any], force: bool = False
) -> Screenplay:
    """Applies ``data`` (a subset of WRITABLE_FIELDS); the version moves only with the content."""
    unknown = set(data) - set(WRITABLE_FIELDS)
    if unknown:
        raise TypeError(f"screenplay_update cannot change {sorted(unknown)}")
    locked = Screenplay.all_objects.select_for_update().get(pk=screenplay.pk)
    previous = StoredState(locked.content, locked.file_key)
    for field_name, value in data.items():
        setattr(locked, field_name, value)
    if screenplay_prepare(screenplay=locked, previous=previous, force=force):
        locked.version += 1
    _save_claiming_file_key(locked)
    return locked


def screenplay_check_save(*, screenplay: Screenplay, force: bool) -> None:
    """Raises what saving these unsaved changes would raise (for forms that report errors)."""
    previous = None
    if screenplay.pk is not None:
        stored = Screenplay.all_objects.values_list("content", "file_key").get(pk=screenplay.pk)
        previous = StoredState(*stored)
    screenplay_prepare(screenplay=screenplay, previous=previous, force=force)


def screenplay_prepare(
    *,
    screenplay: Screenplay,
    previous: StoredState | None,
    force: bool,
    check_content_duplicate: bool = True,
) -> bool:
    """Normalises and validates unsaved changes in place, raising what a save would raise.

    ``previous`` holds the stored content and file key (None for a new row).
    Returns whether the content changed.
    """
    _normalise(screenplay)
    content_changed = previous is None or screenplay.content != previous.content
    if content_changed:
        ensure_markdown_saveable(screenplay.content, force=force)
        screenplay.content_hash = content_hash(screenplay.content)
    screenplay.full_clean(validate_unique=False, validate_constraints=False)
    screenplay.file_key = file_key_for_path(screenplay.file_path)
    if previous is None or screenplay.file_key != previous.file_key:
        ensure_file_key_free(screenplay)
    if content_changed and check_content_duplicate:
        ensure_content_unique(screenplay)
    return content_changed


def _normalise(screenplay: Screenplay) -> None:
    screenplay.name = screenplay.name.strip()
    screenplay.content = normalize_newlines(screenplay.content)
    for field_name in PATH_FIELDS:
        setattr(screenplay, field_name, sanitize_path(getattr(screenplay, field_name)))


def ensure_markdown_saveable(content: str, *, force: bool) -> None:
    """Errors always block; warnings block unless forced."""
    report = validate_markdown(content)
    if report.errors:
        raise InvalidMarkdown(report)
    if report.warnings and not force:
        raise MarkdownWarningsNotForced(report)


def ensure_file_key_free(screenplay: Screenplay) -> None:
    other = screenplay_with_file_key(file_key=screenplay.file_key, exclude_id=screenplay.pk)
    if other is not None:
        raise DuplicateScreenplay(screenplay_id=other.pk, name=other.name, match="file_key")


def _save_claiming_file_key(screenplay: Screenplay, **save_kwargs: Any) -> None:
    """Saves; a concurrent save that took the same file key first becomes a 409.

    The checks above only see committed rows: the database constraint settles races.
    """
    try:
        with transaction.atomic():
            screenplay.save(**save_kwargs)
    except IntegrityError:
        ensure_file_key_free(screenplay)
        raise


def ensure_content_unique(screenplay: Screenplay) -> None:
    other = screenplay_with_content_hash(
        content_hash=screenplay.content_hash, exclude_id=screenplay.pk
    )
    if other is not None:
        raise DuplicateScreenplay(screenplay_id=other.pk, name=other.name, match="content_hash")


def screenplay_rename(
    *, screenplay: Screenplay, new_name: str, update_file_paths: bool = False
) -> Screenplay:
    """With ``update_file_paths`` the file and export names follow the new name (slug + .md)."""
    changes = {"name": new_name}
    if update_file_paths:
        changes["file_path"] = renamed_file_path(screenplay.file_path, new_name)
        changes["export_path"] = renamed_file_path(screenplay.export_path, new_name)
    return screenplay_update(screenplay=screenplay, data=changes)


def screenplay_change_working_directory(
    *, screenplay: Screenplay, working_directory: str
) -> Screenplay:
    return screenplay_update(screenplay=screenplay, data={"working_directory": working_directory})


def screenplay_mark_used(*, screenplay: Screenplay) -> Screenplay:
    screenplay.last_used_at = timezone.now()
    screenplay.save(update_fields=["last_used_at"])
    return screenplay


def screenplay_soft_delete(*, screenplay: Screenplay) -> uuid.UUID:
    """Marks the screenplay, its conversations and its agent instances deleted as one batch."""
    return soft_delete_tree(screenplay)


@transaction.atomic
def screenplay_restore(*, screenplay: Screenplay) -> Screenplay:
    """Reverses the delete that took this screenplay down, and nothing else.

    Raises ScreenplayNotDeleted for an active screenplay and DuplicateScreenplay
    when another active screenplay took its file or content meanwhile.
    """
    if not screenplay.is_deleted:
        raise ScreenplayNotDeleted()
    ensure_file_key_free(screenplay)
    ensure_content_unique(screenplay)
    try:
        with transaction.atomic():
            restore_tree(screenplay)
    except IntegrityError:
        ensure_file_key_free(screenplay)
        raise
    return screenplay


@transaction.atomic
def screenplay_hard_delete(*, screenplay: Screenplay) -> None:
    """Removes the row for good: an admin-only operation."""
    screenplay.delete()


@transaction.atomic
def screenplay_duplicate(*, screenplay: Screenplay) -> Screenplay:
    """A copy named "<name> (copy)" with its own file name; the same content is allowed."""
    name = screenplay.name[: NAME_MAX_LENGTH - len(COPY_SUFFIX)] + COPY_SUFFIX
    copy = Screenplay(
        name=name,
        description=screenplay.description,
        tags=list(screenplay.tags),
        content=screenplay.content,
        working_directory=screenplay.working_directory,
        file_path=_free_copy_path(screenplay.file_path, name),
        import_path=screenplay.import_path,
        export_path=renamed_file_path(screenplay.export_path, name),
    )
    screenplay_prepare(screenplay=copy, previous=None, force=True, check_content_duplicate=False)
    _save_claiming_file_key(copy)
    return copy


def _free_copy_path(file_path: str, name: str) -> str:
    for attempt in range(1, MAX_COPY_ATTEMPTS + 1):
        candidate = renamed_file_path(file_path, name if attempt == 1 else f"{name} {attempt}")
        if screenplay_with_file_key(file_key=file_key_for_path(candidate)) is None:
            return candidate
    return ""
