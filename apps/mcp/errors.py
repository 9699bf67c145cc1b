"""Domain errors become MCP tool errors: one clear sentence for the model, never a traceback.

The API maps the same exceptions to status codes in ``apps.core.exceptions``; here each
becomes a :class:`ToolError`, which the SDK returns as an ``isError`` result whose text
is ``Error executing tool <name>: <message>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from mcp.server.mcpserver.exceptions import ToolError
from rest_framework import exceptions as drf_exceptions

from apps.core.exceptions import ConductorError

DETAILS_MAX_CHARS = 500


def _details(details: Any) -> str:
    if not details:
        return ""
    text = json.dumps(details, default=str, ensure_ascii=False)
    return f" ({text[:DETAILS_MAX_CHARS]})"


def _flatten(detail: Any) -> list[str]:
    """DRF error details (nested lists and dicts) as "field: message" lines."""
    if isinstance(detail, dict):
        return [
            f"{key}: {line}" if key != "non_field_errors" else line
            for key, value in detail.items()
            for line in _flatten(value)
        ]
    if isinstance(detail, list | tuple):
        return [line for item in detail for line in _flatten(item)]
    return [str(detail)]


def _django_validation_lines(exc: DjangoValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return _flatten(exc.message_dict)
    return list(exc.messages)


def tool_error_for(exc: Exception) -> ToolError | None:
    """The tool error a domain exception stands for; None for anything unexpected."""
    if isinstance(exc, ToolError):
        return exc
    if isinstance(exc, ConductorError):
        return ToolError(f"{exc.message} [{exc.code}]{_details(exc.details)}")
    if isinstance(exc, DjangoValidationError):
        return ToolError("Invalid input: " + "; ".join(_django_validation_lines(exc)))
    if isinstance(exc, drf_exceptions.ValidationError):
        return ToolError("Invalid input: " + "; ".join(_flatten(exc.detail)))
    if isinstance(exc, DjangoPermissionDenied | drf_exceptions.PermissionDenied):
        reason = str(exc) or "you do not have permission to perform this action"
        return ToolError(f"Permission denied: {reason}")
    if isinstance(exc, drf_exceptions.APIException):
        return ToolError("; ".join(_flatten(exc.detail)))
    if isinstance(exc, ObjectDoesNotExist | Http404):
        return ToolError(f"Not found: {exc}")
    return None


@contextmanager
def domain_errors() -> Iterator[None]:
    """Re-raises domain exceptions as tool errors, without the chain a client would see."""
    try:
        yield
    except Exception as exc:
        error = tool_error_for(exc)
        if error is None:
            raise
        raise error from None
