"""Archive files, confined to the backup directory.

Every path is resolved (``..`` and symbolic links followed) before use, and one that
lands outside the directory is refused. Files are written to a temporary name and
renamed into place, readable by the owner only: an archive holds every persona and
the agents' MCP configurations.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.archive.exceptions import BackupNotFound, BackupPathRefused, InvalidArchive
from apps.archive.schema import archive_validate

ARCHIVE_SUFFIX = ".json"


def backup_dir() -> Path:
    """CONDUCTOR_BACKUP_DIR, else ``<CONDUCTOR_DATA_DIR>/backups``, resolved."""
    configured = settings.CONDUCTOR_BACKUP_DIR
    directory = Path(configured) if configured else Path(settings.DATA_DIR) / "backups"
    return directory.resolve()


def _timestamped_name() -> str:
    return timezone.now().strftime("conductor-archive-%Y%m%d-%H%M%S-%f") + ARCHIVE_SUFFIX


def backup_path(path: str | None) -> Path:
    """The absolute file ``path`` names inside the backup directory; None: a new timestamped one.

    Raises BackupPathRefused for a path that resolves outside the directory (through
    ``..``, an absolute path elsewhere or a symbolic link) or that is not a .json file.
    """
    root = backup_dir()
    requested = _timestamped_name() if path is None else path
    if not requested.strip() or "\x00" in requested:
        raise BackupPathRefused("Name a backup file, e.g. 'team.json'.", details={"path": path})
    resolved = (root / requested).resolve()
    if resolved == root or not resolved.is_relative_to(root):
        raise BackupPathRefused(
            f"{path!r} is outside the backup directory {str(root)!r}; "
            "name a file inside it (a relative path is taken from there).",
            details={"path": path, "backup_dir": str(root)},
        )
    if resolved.suffix.lower() != ARCHIVE_SUFFIX:
        raise BackupPathRefused(
            f"{path!r} is not a .json file; archives are JSON files.", details={"path": path}
        )
    return resolved


def write_archive_file(target: Path, archive: dict[str, Any]) -> None:
    """Writes atomically (a temporary file renamed over ``target``), mode 0600."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(archive, handle, ensure_ascii=False, indent=1)
            handle.write("\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_archive_file(path: str) -> dict[str, Any]:
    """The validated archive stored at ``path`` in the backup directory."""
    source = backup_path(path)
    if not source.is_file():
        raise BackupNotFound(
            f"There is no backup {path!r} in {str(backup_dir())!r}.", details={"path": path}
        )
    try:
        archive = json.loads(source.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArchive(
            f"The backup {path!r} is not JSON: {exc}", details={"path": path}
        ) from None
    return archive_validate(archive)
