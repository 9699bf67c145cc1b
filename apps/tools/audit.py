"""Writing the audit trail of tool executions."""

from __future__ import annotations

import json
import re
from typing import Any

from apps.tools.models import ToolExecution

SECRET_KEY_PATTERN = re.compile(r"password|token|secret|key|authorization", re.IGNORECASE)
REDACTED = "[redacted]"
SUMMARY_MAX_CHARS = 1000


def redact(value: Any) -> Any:
    """A copy of ``value`` whose secret-looking keys, at any depth, hold ``[redacted]``."""
    if isinstance(value, dict):
        return {
            key: REDACTED if SECRET_KEY_PATTERN.search(str(key)) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def summarize(result: Any) -> str:
    text = result if isinstance(result, str) else json.dumps(result, default=str)
    return text if len(text) <= SUMMARY_MAX_CHARS else text[: SUMMARY_MAX_CHARS - 1] + "…"


def tool_execution(
    *,
    tool: str,
    arguments: Any,
    result: Any,
    success: bool,
    error: str | None,
    duration_ms: int,
    run_id: Any = None,
    user_id: int | None = None,
) -> ToolExecution:
    """The audit row of one tool execution, unsaved: secrets redacted, output summarized."""
    return ToolExecution(
        tool=tool,
        arguments=redact(arguments if arguments is not None else {}),
        output_summary=summarize(result) if result is not None else "",
        success=success,
        error=error or "",
        duration_ms=max(0, duration_ms),
        run_id=run_id,
        user_id=user_id,
    )
