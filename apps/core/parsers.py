"""Limits on what a request may send: JSON nesting and upload size.

The body size itself is Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``, checked when
``request.body`` or the form fields are read (DRF's parsers do since 3.17.2); the
RequestDataTooBig it raises becomes a 413 (apps.core.exceptions and apps.core.views).
``json`` recurses once per nesting level, so ten thousand ``[`` ended in a
RecursionError, a 500: :class:`BoundedJSONParser` answers 400 instead.
"""

from __future__ import annotations

import json
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]
from rest_framework.utils.json import strict_constant


class JsonTooDeep(ValueError):
    """The document nests arrays and objects deeper than allowed."""


def _check_depth(value: Any, max_depth: int) -> None:
    """Walks the decoded document without recursion; raises past ``max_depth`` levels."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels.")
        pending.extend((child, depth + 1) for child in children)


def loads_bounded(text: str | bytes, *, max_depth: int | None = None, **kwargs: Any) -> Any:
    """``json.loads`` that raises :class:`JsonTooDeep` instead of recursing without end.

    ``json``'s C decoder stops with RecursionError, cleanly, near the interpreter's
    recursion limit; shallower documents are measured after decoding.
    """
    limit = settings.CONDUCTOR_MAX_JSON_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JsonTooDeep(f"JSON nested deeper than {limit} levels.") from None
    _check_depth(value, limit)
    return value


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing documents deeper than ``CONDUCTOR_MAX_JSON_DEPTH``."""

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        # As DRF's parser reads the charset (the stubs lack this 3.17 helper).
        encoding = get_encoding(parser_context or {})
        try:
            text = stream.read().decode(encoding)
            return loads_bounded(text, parse_constant=strict_constant if self.strict else None)
        except JsonTooDeep as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
            raise ParseError(f"JSON parse error - {exc}") from None


class UploadTooLarge(RequestDataTooBig):
    """A multipart body over ``CONDUCTOR_MAX_UPLOAD_BYTES``."""

    def __init__(self, content_length: int) -> None:
        self.max_bytes = settings.CONDUCTOR_MAX_UPLOAD_BYTES
        super().__init__(f"Upload of {content_length} bytes exceeds {self.max_bytes} bytes.")


class UploadSizeLimitHandler(FileUploadHandler):
    """Refuses a multipart body over ``CONDUCTOR_MAX_UPLOAD_BYTES`` before reading it.

    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` leaves files out, so without this a request could
    stream any amount to temporary files. First in ``FILE_UPLOAD_HANDLERS``; it passes
    every chunk on to the next handler.
    """

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, Any],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> None:
        if content_length > settings.CONDUCTOR_MAX_UPLOAD_BYTES:
            raise UploadTooLarge(content_length)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
