from __future__ import annotations

from typing import Any

from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict, ServiceUnavailable


class InvalidArchive(ConductorError):
    code = "invalid_archive"
    default_message = "The archive is not a valid Conductor archive."


class ArchiveConflict(Conflict):
    code = "archive_conflict"
    default_message = "The archive clashes with what the database holds."


class BackupPathRefused(ConductorError):
    code = "backup_path_refused"
    default_message = "Backups are read and written inside the backup directory only."


class BackupNotFound(ConductorError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "backup_not_found"
    default_message = "There is no such backup."


class UnknownDatabase(ConductorError):
    code = "unknown_database"
    default_message = "That database alias is not configured."


class DatabaseNotReady(ServiceUnavailable):
    code = "database_not_ready"
    default_message = "The database cannot be used."

    def __init__(self, alias: str, error: Exception, **kwargs: Any) -> None:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        super().__init__(
            f"The database {alias!r} cannot be used ({reason}). "
            f"Is it reachable and migrated (manage.py migrate --database {alias})?",
            details={"alias": alias},
        )
