from __future__ import annotations

from typing import Any

from rest_framework import status

from apps.core.exceptions import ConductorError, Conflict
from apps.screenplays.markdown_validation import MarkdownReport


class InvalidMarkdown(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_markdown"
    default_message = "The content has markdown errors and cannot be saved."

    def __init__(self, report: MarkdownReport) -> None:
        super().__init__(details={"errors": report.errors, "warnings": report.warnings})


class MarkdownWarningsNotForced(ConductorError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "markdown_warnings"
    default_message = "The content has markdown warnings; save again with force=true to keep it."

    def __init__(self, report: MarkdownReport) -> None:
        super().__init__(details={"warnings": report.warnings, "force_required": True})


class DuplicateScreenplay(Conflict):
    code = "duplicate_screenplay"

    def __init__(self, *, screenplay_id: int, name: str, match: str) -> None:
        label = "file" if match == "file_key" else "content"
        message = f'Another screenplay, "{name}" (id {screenplay_id}), has the same {label}.'
        details: dict[str, Any] = {"id": screenplay_id, "name": name, "match": match}
        super().__init__(message, details=details)


class ScreenplayNotDeleted(Conflict):
    code = "screenplay_not_deleted"
    default_message = "This screenplay is not deleted; there is nothing to restore."
