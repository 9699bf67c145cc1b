"""The shape of an archive (version 1), checked before anything is written.

Field rules (lengths, slugs, model strings, markdown paths) are the models' own and
are checked when each entry is restored; this module checks structure, types,
timestamps and the references between entries.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils.dateparse import parse_datetime
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from apps.archive.exceptions import InvalidArchive
from apps.personas.models import CHANGE_REASON_MAX_LENGTH

ARCHIVE_FORMAT = "conductor-archive"
ARCHIVE_VERSION = 1
KINDS = ("agents", "personas", "screenplays")
MAX_REPORTED_PROBLEMS = 10

formats = FormatChecker(formats=())


@formats.checks("date-time", raises=ValueError)
def _is_aware_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("not an ISO 8601 date and time")
    if parsed.tzinfo is None:
        raise ValueError("has no time zone")
    return True


@formats.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


# The largest value of a PositiveIntegerField on every supported database.
MAX_INTEGER = 2_147_483_647
VERSION_NUMBER = {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}
DATETIME = {"type": "string", "format": "date-time"}
OPTIONAL_DATETIME = {"anyOf": [DATETIME, {"type": "null"}]}
TEXT = {"type": "string"}
STRINGS = {"type": "array", "items": TEXT}
TIMESTAMPS = {"created_at": DATETIME, "updated_at": DATETIME}

PERSONA_VERSION = _object(
    ["version", "history_date", "history_type", "name", "content", "metadata"],
    {
        "version": VERSION_NUMBER,
        "history_date": DATETIME,
        "history_type": {"enum": ["+", "~", "-"]},
        "change_reason": {"type": ["string", "null"], "maxLength": CHANGE_REASON_MAX_LENGTH},
        "user": {"type": ["string", "null"]},
        "name": TEXT,
        "content": TEXT,
        "metadata": {"type": "object"},
        **TIMESTAMPS,
    },
)

PERSONA = _object(
    ["name"],
    {
        "name": {"type": "string", "minLength": 1},
        "content": TEXT,
        "metadata": {"type": "object"},
        "history": {"type": "array", "items": PERSONA_VERSION},
        **TIMESTAMPS,
    },
)

AGENT = _object(
    ["slug", "name", "description", "model"],
    {
        "slug": TEXT,
        "name": TEXT,
        "emoji": TEXT,
        "description": TEXT,
        "group": TEXT,
        "tags": STRINGS,
        "persona": {"type": ["string", "null"]},
        "model": TEXT,
        "fallback_models": STRINGS,
        "tools": STRINGS,
        "pre_approved_tools": STRINGS,
        "mcp_configs": {"type": "object"},
        "max_steps": {"type": "integer"},
        "is_active": {"type": "boolean"},
        **TIMESTAMPS,
    },
)

SCREENPLAY = _object(
    ["uid", "name", "content"],
    {
        "uid": {"type": "string", "format": "uuid"},
        "name": TEXT,
        "description": TEXT,
        "tags": STRINGS,
        "content": TEXT,
        "working_directory": TEXT,
        "file_path": TEXT,
        "import_path": TEXT,
        "export_path": TEXT,
        "version": VERSION_NUMBER,
        "last_used_at": OPTIONAL_DATETIME,
        "is_deleted": {"type": "boolean"},
        "deleted_at": OPTIONAL_DATETIME,
        "deletion_reason": TEXT,
        **TIMESTAMPS,
    },
)

ARCHIVE = _object(
    ["format", "version", *KINDS],
    {
        "format": {"const": ARCHIVE_FORMAT},
        "version": {"const": ARCHIVE_VERSION},
        "created_at": DATETIME,
        "agents": {"type": "array", "items": AGENT},
        "personas": {"type": "array", "items": PERSONA},
        "screenplays": {"type": "array", "items": SCREENPLAY},
    },
)

_validator = Draft202012Validator(ARCHIVE, format_checker=formats)


def json_path(parts: Iterable[Any]) -> str:
    """``agents[2].slug`` for the path ("agents", 2, "slug")."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(the archive)"


def _problem(error: SchemaError) -> dict[str, str]:
    return {"path": json_path(error.absolute_path), "message": error.message}


def _raise(problems: list[dict[str, str]]) -> None:
    shown = problems[:MAX_REPORTED_PROBLEMS]
    listed = "; ".join(f"{problem['path']}: {problem['message']}" for problem in shown)
    more = len(problems) - len(shown)
    suffix = f" (and {more} more)" if more > 0 else ""
    raise InvalidArchive(f"The archive is invalid: {listed}{suffix}", details=problems)


def _check_envelope(archive: object) -> None:
    if not isinstance(archive, dict):
        raise InvalidArchive(
            f"An archive is a JSON object, not {type(archive).__name__}.",
            details=[{"path": "(the archive)", "message": "not an object"}],
        )
    if archive.get("format") != ARCHIVE_FORMAT:
        raise InvalidArchive(
            f"Not a Conductor archive: format is {archive.get('format')!r}, "
            f"expected {ARCHIVE_FORMAT!r}.",
            details=[{"path": "format", "message": "not a Conductor archive"}],
        )
    if archive.get("version") != ARCHIVE_VERSION:
        raise InvalidArchive(
            f"Unsupported archive version {archive.get('version')!r}: "
            f"this Conductor reads version {ARCHIVE_VERSION}.",
            details=[{"path": "version", "message": "unsupported version"}],
        )


def _duplicates(kind: str, key: str, entries: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    counts = Counter(str(entry[key]) for entry in entries)
    for value, count in sorted(counts.items()):
        if count > 1:
            yield {"path": kind, "message": f"{count} entries have the {key} {value!r}"}


def _version_duplicates(personas: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    for index, persona in enumerate(personas):
        counts = Counter(row["version"] for row in persona.get("history", []))
        repeated = sorted(version for version, count in counts.items() if count > 1)
        if repeated:
            yield {
                "path": f"personas[{index}].history",
                "message": f"version {repeated[0]} appears more than once",
            }


def _reference_problems(archive: dict[str, Any]) -> list[dict[str, str]]:
    screenplay_uids = [{"uid": str(uuid.UUID(e["uid"]))} for e in archive["screenplays"]]
    return [
        *_duplicates("agents", "slug", archive["agents"]),
        *_duplicates("personas", "name", archive["personas"]),
        *_duplicates("screenplays", "uid", screenplay_uids),
        *_version_duplicates(archive["personas"]),
    ]


def archive_validate(archive: object) -> dict[str, Any]:
    """Raises InvalidArchive naming every problem (the first ten in the message)."""
    _check_envelope(archive)
    assert isinstance(archive, dict)
    problems = sorted(
        (_problem(error) for error in _validator.iter_errors(archive)),
        key=lambda problem: problem["path"],
    )
    if problems:
        _raise(problems)
    problems = _reference_problems(archive)
    if problems:
        _raise(problems)
    return archive
