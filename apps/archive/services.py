"""Backups: build, restore, write, read and copy archives of agents, personas and screenplays.

Everything here is staff-only except building and reading (the callers that expose
those decide who may): an archive holds every persona and every agent's MCP configs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, ProgrammingError, connections
from rest_framework.exceptions import PermissionDenied

from apps.archive.exceptions import BackupPathRefused, DatabaseNotReady, UnknownDatabase
from apps.archive.files import backup_path, read_archive_file, write_archive_file
from apps.archive.restore import RestoreReport, restore_archive
from apps.archive.selectors import archive_build, archive_counts
from apps.core.types import Actor

__all__ = [
    "RestoreReport",
    "archive_build",
    "archive_migrate",
    "archive_read",
    "archive_restore",
    "archive_restore_file",
    "archive_write",
]

RESTORE_REASON = "Restored from an archive"

T = TypeVar("T")


def _require_staff(actor: Actor, action: str) -> None:
    if not getattr(actor, "is_staff", False):
        raise PermissionDenied(f"Only staff may {action}.")


def archive_restore(
    *, archive: dict[str, Any], actor: Actor, using: str = DEFAULT_DB_ALIAS
) -> RestoreReport:
    """Staff only. Idempotent: restoring the same archive again skips every entry."""
    _require_staff(actor, "restore an archive")
    return restore_archive(archive, actor=actor, using=using, reason=RESTORE_REASON)


def archive_write(
    *, path: str | None, actor: Actor, using: str = DEFAULT_DB_ALIAS
) -> dict[str, Any]:
    """Staff only. Writes ``archive_build()`` to ``path`` in the backup directory.

    ``None`` picks a new timestamped name; an existing file of that name is replaced.
    """
    _require_staff(actor, "write a backup")
    target = backup_path(path)
    archive = archive_build(using=using)
    try:
        write_archive_file(target, archive)
    except OSError as exc:
        raise BackupPathRefused(
            f"Cannot write {str(target)!r}: {exc.strerror or exc}", details={"path": path}
        ) from None
    return {"path": str(target), **archive_counts(archive)}


def archive_read(*, path: str) -> dict[str, Any]:
    """The validated archive at ``path`` in the backup directory (no permission check:
    restoring it is what needs staff)."""
    return read_archive_file(path)


def archive_restore_file(
    *, path: str, actor: Actor, using: str = DEFAULT_DB_ALIAS
) -> RestoreReport:
    """Staff only: ``archive_restore`` of the file ``archive_read`` finds at ``path``.

    The permission is checked before the file is looked at, so that someone who may
    not restore learns nothing about the backup directory.
    """
    _require_staff(actor, "restore an archive")
    return archive_restore(archive=archive_read(path=path), actor=actor, using=using)


def _check_aliases(from_alias: str, to_alias: str) -> None:
    configured = sorted(connections.settings)
    for alias in (from_alias, to_alias):
        if alias not in configured:
            raise UnknownDatabase(
                f"There is no database alias {alias!r}; configured: {', '.join(configured)}.",
                details={"alias": alias, "configured": configured},
            )
    if from_alias == to_alias:
        raise UnknownDatabase(
            f"Copying {from_alias!r} onto itself changes nothing; name two different aliases.",
            details={"alias": from_alias},
        )
    if to_alias == settings.CONDUCTOR_SQL_TOOL_DATABASE:
        raise UnknownDatabase(
            f"{to_alias!r} is the read-only alias of the sql_query tool; it cannot be written.",
            details={"alias": to_alias},
        )


def archive_migrate(*, from_alias: str, to_alias: str, actor: Actor) -> dict[str, Any]:
    """Staff only. Copies every agent, persona (with history) and screenplay between aliases.

    The target is restored into as by ``archive_restore``: running it twice skips
    everything the second time. Persona versions keep their authors only where the
    target database has users of the same names.
    """
    _require_staff(actor, "copy data between databases")
    _check_aliases(from_alias, to_alias)
    archive = _on(from_alias, lambda: archive_build(using=from_alias))
    reason = f"Copied from the {from_alias!r} database"
    report = _on(
        to_alias, lambda: restore_archive(archive, actor=actor, using=to_alias, reason=reason)
    )
    return {"from_alias": from_alias, "to_alias": to_alias, **report.as_dict()}


def _on(alias: str, work: Callable[[], T]) -> T:
    """Runs ``work``; a database that is down or not migrated becomes DatabaseNotReady."""
    try:
        return work()
    except (OperationalError, ProgrammingError) as exc:
        raise DatabaseNotReady(alias, exc) from None
