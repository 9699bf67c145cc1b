"""The sql_query tool: one read-only SELECT against the configured database alias.

Read-only is enforced three times: ``sql_guard`` checks the text; PostgreSQL runs
it in a ``READ ONLY`` transaction with ``SET LOCAL statement_timeout`` through a
server-side cursor (one statement only, rolled back afterwards); SQLite runs it
with ``PRAGMA query_only = ON`` and a progress handler that interrupts it at the
timeout, and the default ``sql_tool`` alias opens the file with ``mode=ro``.
The statement executed is the guard's comment-stripped text, so nothing the
guard did not see reaches the database.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.connection import ConnectionDoesNotExist

from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult
from apps.tools import sql_guard

MAX_QUERY_CHARS = 10_000
MAX_ROWS_LIMIT = 1000
SCALAR_TYPES = (str, int, float, bool, type(None))


class QueryResult(TypedDict):
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool


class InvalidArguments(ValueError):
    pass


@dataclass(frozen=True)
class SqlRequest:
    statement: str
    params: list[Any] | None
    max_rows: int


class SqlQueryTool(BaseTool):
    definition = ToolDefinition(
        name="sql_query",
        description=(
            "Runs one read-only SELECT (or WITH … SELECT) on the application database and "
            "returns columns and rows. Pass values as params bound to %s placeholders "
            "(write %% for a literal % when params are given). Quote identifiers that are SQL "
            "keywords. Rows are capped; `truncated` says more existed."
        ),
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": MAX_QUERY_CHARS},
                "params": {
                    "type": "array",
                    "items": {"type": ["string", "number", "boolean", "null"]},
                    "description": "Values for the %s placeholders, in order.",
                },
                "max_rows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS_LIMIT},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        category=ToolCategory.DATA,
        requires_approval=True,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        started = time.monotonic()
        try:
            request = parse_request(arguments)
        except (InvalidArguments, sql_guard.QueryRejected) as exc:
            return ToolResult(success=False, error=str(exc), duration_ms=_ms_since(started))
        result = await sync_to_async(run_read_only)(request)
        return ToolResult(**result, duration_ms=_ms_since(started))


def parse_request(arguments: dict[str, Any]) -> SqlRequest:
    query = arguments.get("query")
    if not isinstance(query, str):
        raise InvalidArguments("query must be a string")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidArguments(f"query is longer than {MAX_QUERY_CHARS} characters")
    statement = sql_guard.check_query(
        query, denied_functions=settings.CONDUCTOR_SQL_TOOL_DENIED_FUNCTIONS
    )
    params = _params(arguments.get("params"))
    return SqlRequest(statement, params, _max_rows(arguments.get("max_rows")))


def _params(raw: Any) -> list[Any] | None:
    if raw is None or raw == []:
        return None  # Without params the backends leave % alone.
    if not isinstance(raw, list) or not all(isinstance(v, SCALAR_TYPES) for v in raw):
        raise InvalidArguments("params must be a list of strings, numbers, booleans or null")
    return raw


def _max_rows(raw: Any) -> int:
    if raw is None:
        return int(settings.CONDUCTOR_SQL_TOOL_MAX_ROWS)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_ROWS_LIMIT:
        raise InvalidArguments(f"max_rows must be an integer from 1 to {MAX_ROWS_LIMIT}")
    return raw


def run_read_only(request: SqlRequest) -> dict[str, Any]:
    """Call from synchronous code (Django connections are per thread); returns ToolResult fields."""
    alias = settings.CONDUCTOR_SQL_TOOL_DATABASE
    try:
        connection = connections[alias]
    except ConnectionDoesNotExist:
        return {"success": False, "error": f"database alias {alias!r} is not configured"}
    if connection.in_atomic_block:
        return {"success": False, "error": f"database alias {alias!r} is inside a transaction"}
    try:
        return {"success": True, "result": _execute(connection, request)}
    except DatabaseError as exc:
        return {"success": False, "error": f"database error: {_describe(exc, connection)}"}
    finally:
        connection.close_if_unusable_or_obsolete()


def _execute(connection: BaseDatabaseWrapper, request: SqlRequest) -> QueryResult:
    guard = _postgresql_read_only if connection.vendor == "postgresql" else _sqlite_read_only
    with guard(connection), connection.chunked_cursor() as cursor:
        cursor.execute(request.statement, request.params)
        columns = [column[0] for column in cursor.description or ()]
        rows = cursor.fetchmany(request.max_rows + 1)
    truncated = len(rows) > request.max_rows
    kept = [[json_safe(value) for value in row] for row in rows[: request.max_rows]]
    return {"columns": columns, "rows": kept, "row_count": len(kept), "truncated": truncated}


@contextmanager
def _postgresql_read_only(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """A READ ONLY transaction that is always rolled back, even after a clean SELECT."""
    timeout_ms = int(settings.CONDUCTOR_SQL_TOOL_TIMEOUT_MS)
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
        yield
        transaction.set_rollback(True, using=connection.alias)


@contextmanager
def _sqlite_read_only(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """``query_only`` and an interrupting progress handler, both undone afterwards."""
    connection.ensure_connection()
    raw = connection.connection
    deadline = time.monotonic() + settings.CONDUCTOR_SQL_TOOL_TIMEOUT_MS / 1000
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only")
        was_query_only = cursor.fetchone()[0]
        cursor.execute("PRAGMA query_only = ON")
    raw.set_progress_handler(_interrupt_after(deadline), 1000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA query_only = {int(was_query_only)}")


def _interrupt_after(deadline: float) -> Callable[[], int]:
    return lambda: int(time.monotonic() > deadline)


def _describe(exc: DatabaseError, connection: BaseDatabaseWrapper) -> str:
    message = str(exc).strip() or type(exc).__name__
    if connection.vendor == "sqlite" and message == "interrupted":
        timeout = settings.CONDUCTOR_SQL_TOOL_TIMEOUT_MS
        return f"statement timeout ({timeout} ms) exceeded"
    return message


def json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | datetime.timedelta):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    return str(value)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
