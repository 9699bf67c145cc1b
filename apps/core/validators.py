from __future__ import annotations

import json
import posixpath
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

# C0 controls except tab and newline, DEL and C1 controls. A lone \r is a
# control character too; CRLF line endings are normalised before validation.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def validate_no_control_characters(value: str) -> None:
    match = _CONTROL.search(value or "")
    if match:
        line = value.count("\n", 0, match.start()) + 1
        raise ValidationError(
            "Control characters are not allowed (found %(char)s on line %(line)s).",
            code="control_characters",
            params={"char": repr(match.group()), "line": line},
        )


@deconstructible
class JsonObjectMaxBytes:
    """A JSON object (not a list or scalar) whose UTF-8 serialisation fits in ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def __call__(self, value: Any) -> None:
        if not isinstance(value, dict):
            raise ValidationError("Must be a JSON object.", code="not_an_object")
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        if size > self.max_bytes:
            raise ValidationError(
                "Must be at most %(max)s bytes as JSON (got %(size)s).",
                code="too_large",
                params={"max": self.max_bytes, "size": size},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonObjectMaxBytes) and other.max_bytes == self.max_bytes


def validate_absolute_path(value: str) -> None:
    if not value or not posixpath.isabs(value):
        raise ValidationError("Must be an absolute path (starting with /).", code="not_absolute")
    if "\x00" in value:
        raise ValidationError("Must not contain NUL bytes.", code="invalid_path")


def validate_string_list(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError("Must be a list of strings.", code="not_a_string_list")
