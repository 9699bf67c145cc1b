"""File locations of screenplays: validation, sanitising and the duplicate-detection key."""

from __future__ import annotations

import hashlib
import posixpath
import re

from django.core.exceptions import ValidationError
from django.utils.text import slugify

MAX_PATH_LENGTH = 500
MARKDOWN_EXTENSIONS = (".md", ".markdown")
FORBIDDEN_CHARACTERS = '<>:"|?*'
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_location(value: str) -> None:
    """A directory or file path: no traversal, no reserved or control characters, ≤500 chars."""
    if len(value) > MAX_PATH_LENGTH:
        raise ValidationError(
            "Path must be at most %(max)s characters (got %(length)s).",
            code="path_too_long",
            params={"max": MAX_PATH_LENGTH, "length": len(value)},
        )
    if ".." in value:
        raise ValidationError("Path must not contain '..'.", code="path_traversal")
    found = sorted({char for char in value if char in FORBIDDEN_CHARACTERS})
    if found:
        raise ValidationError(
            "Path must not contain %(chars)s.", code="forbidden_characters", params={"chars": found}
        )
    if _CONTROL.search(value):
        raise ValidationError(
            "Path must not contain control characters.", code="control_characters"
        )


def validate_markdown_file_name(name: str) -> None:
    validate_location(name)
    if not name or "/" in name or "\\" in name:
        raise ValidationError("File name must be a plain name, without a path.", code="bad_name")
    if not name.lower().endswith(MARKDOWN_EXTENSIONS):
        raise ValidationError(
            "File name must end in .md or .markdown.", code="not_markdown", params={"name": name}
        )


def validate_markdown_file_path(value: str) -> None:
    """A model-field validator: a full path whose file name is a markdown file."""
    validate_location(value)
    validate_markdown_file_name(split_file_path(value)[1])


def sanitize_path(path: str) -> str:
    """Forward slashes only, no empty or "." segments, no trailing slash."""
    unified = path.strip().replace("\\", "/")
    segments = [segment for segment in unified.split("/") if segment not in {"", "."}]
    prefix = "/" if unified.startswith("/") else ""
    return prefix + "/".join(segments)


def join_location(directory: str, file_name: str) -> str:
    sanitized = sanitize_path(directory)
    if not sanitized:
        return file_name
    return f"{sanitized.rstrip('/')}/{file_name}"


def split_file_path(file_path: str) -> tuple[str, str]:
    sanitized = sanitize_path(file_path)
    return posixpath.dirname(sanitized), posixpath.basename(sanitized)


def file_key(directory: str, file_name: str) -> str:
    return hashlib.sha256(join_location(directory, file_name).encode()).hexdigest()


def file_key_for_path(file_path: str) -> str:
    """The key of a stored file path, or "" when the screenplay has no file."""
    if not file_path:
        return ""
    return file_key(*split_file_path(file_path))


def validated_file_key(*, directory: str, file_name: str) -> str:
    """Raises a field-keyed ValidationError, as a serializer would."""
    errors: dict[str, list[str]] = {}
    for field_name, value, check in (
        ("file_path", directory, validate_location),
        ("file_name", file_name, validate_markdown_file_name),
    ):
        try:
            check(value)
        except ValidationError as exc:
            errors[field_name] = exc.messages
    if not errors and len(join_location(directory, file_name)) > MAX_PATH_LENGTH:
        errors["file_path"] = [f"Path and file name must fit in {MAX_PATH_LENGTH} characters."]
    if errors:
        raise ValidationError(errors)
    return file_key(directory, file_name)


def renamed_file_path(file_path: str, new_name: str) -> str:
    """The same directory, with a file name slugged from ``new_name``."""
    if not file_path:
        return ""
    directory, _ = split_file_path(file_path)
    return join_location(directory, markdown_file_name(new_name))


def markdown_file_name(name: str) -> str:
    return f"{slugify(name) or 'screenplay'}.md"
