from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from apps.runtime.tools import (
    PluginRegistry,
    ToolCategory,
    ToolContext,
    ToolResult,
    execute_tool,
)
from apps.tools import sql_query
from apps.tools.sql_query import SqlQueryTool, json_safe
from tests.factories import UserFactory

TOOL_DATABASES = ["default", "sql_tool"]
# The tool reads through its own alias, a mirror of the test database on another
# connection: rows must be committed for it to see them, and it refuses to run inside
# the transaction a non-transactional test wraps it in.
committed = pytest.mark.django_db(transaction=True, databases=TOOL_DATABASES)

CONTEXT = ToolContext(run_id="run-1", user_id=None, cwd=".")
COUNT_TO = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
ENDLESS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"


def call(arguments: dict[str, Any]) -> ToolResult:
    tools = PluginRegistry()
    tools.register(SqlQueryTool())
    return execute_tool(tools, "sql_query", arguments, CONTEXT)


def numbers(count: int, **arguments: Any) -> ToolResult:
    return call({"query": COUNT_TO + "SELECT i FROM n", "params": [count], **arguments})


def failure(result: ToolResult) -> str:
    assert result.success is False, result.result
    assert result.error is not None
    return result.error


def username(user: User) -> str:
    return User.objects.values_list("username", flat=True).get(pk=user.pk)


@pytest.fixture(autouse=True, scope="module")
def _close_the_tool_pool():
    """The session teardown ends other sessions, idle pooled ones too; a pool must not
    then hand out one of those dead connections."""
    yield
    tool_connection = connections["sql_tool"]
    tool_connection.close()
    close_pool = getattr(tool_connection, "close_pool", None)  # PostgreSQL only
    if close_pool is not None:
        close_pool()


@pytest.fixture
def ada():
    return UserFactory(username="ada", email="ada@example.com")


@pytest.fixture
def accept_anything(monkeypatch):
    """Lets a statement past the guard, to show what the database itself refuses."""
    monkeypatch.setattr(sql_query.sql_guard, "check_query", lambda query, **kwargs: query)


def test_the_tool_is_a_data_tool_that_requires_approval():
    definition = SqlQueryTool.definition

    assert definition.name == "sql_query"
    assert definition.category == ToolCategory.DATA
    assert definition.requires_approval is True


@committed
def test_it_returns_columns_and_rows_from_a_real_table(ada):
    UserFactory(username="grace", email="grace@example.com")

    result = call({"query": "SELECT username, email FROM auth_user ORDER BY username"})

    assert result.success, result.error
    assert result.result == {
        "columns": ["username", "email"],
        "rows": [["ada", "ada@example.com"], ["grace", "grace@example.com"]],
        "row_count": 2,
        "truncated": False,
    }


@committed
def test_params_are_bound_and_an_injection_attempt_stays_a_literal(ada):
    query = "SELECT username FROM auth_user WHERE username = %s"

    found = call({"query": query, "params": ["ada"]})
    injected = call({"query": query, "params": ["x' OR '1'='1"]})
    echoed = call({"query": "SELECT %s AS v", "params": ["'); DROP TABLE auth_user; --"]})

    assert found.result["rows"] == [["ada"]]
    assert injected.result["rows"] == []
    assert echoed.result["rows"] == [["'); DROP TABLE auth_user; --"]]
    assert User.objects.filter(username="ada").exists()


@committed
def test_params_that_do_not_fit_the_placeholders_are_an_error_result():
    assert failure(call({"query": "SELECT %s, %s", "params": [1]})).startswith("database error")
    assert call({"query": "SELECT %s AS one", "params": [1]}).result["rows"] == [[1]]


@committed
def test_a_percent_sign_is_written_once_without_params_and_twice_with_them(ada):
    query = "SELECT username FROM auth_user WHERE email LIKE '%{}example.com' AND id > {}"

    alone = call({"query": query.format("@", 0)})
    bound = call({"query": query.format("%@", "%s"), "params": [0]})

    assert alone.result["rows"] == bound.result["rows"] == [["ada"]]


@committed
def test_rows_are_capped_at_100_by_default_and_flagged_truncated():
    result = numbers(150)

    assert result.result["row_count"] == 100
    assert result.result["rows"][-1] == [100]
    assert result.result["truncated"] is True


@committed
def test_exactly_max_rows_rows_are_not_truncated():
    result = numbers(7, max_rows=7)

    assert result.result["row_count"] == 7
    assert result.result["truncated"] is False


@committed
def test_a_call_may_ask_for_up_to_1000_rows():
    result = numbers(1500, max_rows=1000)

    assert result.result["row_count"] == 1000
    assert result.result["truncated"] is True


@pytest.mark.parametrize("max_rows", [0, 1001, "10"])
def test_it_refuses_max_rows_outside_1_to_1000(max_rows):
    result = call({"query": "SELECT 1", "max_rows": max_rows})

    assert "max_rows" in failure(result)


@committed
def test_the_default_row_cap_comes_from_settings(settings):
    settings.CONDUCTOR_SQL_TOOL_MAX_ROWS = 5

    assert numbers(50).result["row_count"] == 5


def test_a_rejected_query_is_an_error_result_naming_the_reason():
    result = call({"query": "SELECT 1; DROP TABLE auth_user"})

    assert failure(result) == "only one statement is allowed"


@committed
def test_a_write_that_slips_past_the_guard_is_refused_by_the_database(ada, accept_anything):
    result = call({"query": "UPDATE auth_user SET username = 'hacked'"})

    assert failure(result).startswith("database error: ")
    assert username(ada) == "ada"


@committed
def test_a_second_statement_that_slips_past_the_guard_is_refused(ada, accept_anything):
    result = call({"query": "SELECT 1; UPDATE auth_user SET username = 'hacked'"})

    assert failure(result).startswith("database error: ")
    assert username(ada) == "ada"


@committed
def test_a_database_error_is_a_clean_result_and_the_connection_still_works():
    failed = call({"query": "SELECT * FROM no_such_table"})
    after = call({"query": "SELECT 1 AS one"})

    assert failure(failed).startswith("database error: ")
    assert "no_such_table" in failure(failed)
    assert after.result["rows"] == [[1]]


@committed
def test_a_slow_query_is_stopped_at_the_statement_timeout(settings):
    settings.CONDUCTOR_SQL_TOOL_TIMEOUT_MS = 100

    result = call({"query": ENDLESS})

    assert "timeout" in failure(result)
    assert result.duration_ms < 5000
    assert call({"query": "SELECT 1 AS one"}).result["rows"] == [[1]]


@pytest.mark.django_db(databases=TOOL_DATABASES)
def test_it_refuses_to_run_inside_an_open_transaction():
    result = call({"query": "SELECT 1"})

    assert failure(result) == "database alias 'sql_tool' is inside a transaction"


def test_an_unconfigured_alias_is_an_error_result(settings):
    settings.CONDUCTOR_SQL_TOOL_DATABASE = "missing"

    result = call({"query": "SELECT 1"})

    assert failure(result) == "database alias 'missing' is not configured"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"query": 1}, "query must be a string"),
        ({"query": "SELECT %s", "params": [{"a": 1}]}, "params must be a list of strings"),
        ({"query": "SELECT 1", "max_rows": True}, "max_rows must be an integer from 1 to 1000"),
        ({"query": "x" * 10_001}, "query is longer than 10000 characters"),
    ],
)
async def test_run_checks_its_arguments_itself(arguments, error):
    result = await SqlQueryTool().run(arguments, CONTEXT)

    assert error in failure(result)


@committed
async def test_it_runs_from_the_event_loop():
    result = await SqlQueryTool().run({"query": "SELECT 1 AS one"}, CONTEXT)

    assert result.success, result.error
    assert result.result["rows"] == [[1]]


@committed
def test_sqlite_query_only_is_switched_off_again_afterwards():
    if connection.vendor != "sqlite":
        pytest.skip("query_only is SQLite's read-only switch")

    call({"query": "SELECT 1"})

    with connections["sql_tool"].cursor() as cursor:
        cursor.execute("PRAGMA query_only")
        assert cursor.fetchone()[0] == 0


def test_values_become_json_safe():
    moment = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    ident = uuid.UUID(int=1)

    assert json_safe(moment) == "2025-01-02T03:04:05+00:00"
    assert json_safe(datetime.date(2025, 1, 2)) == "2025-01-02"
    assert json_safe(decimal.Decimal("1.50")) == "1.50"
    assert json_safe(b"\x00\xff") == "AP8="
    assert json_safe(memoryview(b"\x00\xff")) == "AP8="
    assert json_safe(ident) == str(ident)
    assert json_safe(float("nan")) == "nan"
    assert json_safe({"a": [decimal.Decimal(1), None]}) == {"a": ["1", None]}


@pytest.mark.postgres
@committed
class TestOnPostgresql:
    @pytest.fixture(autouse=True)
    def _postgresql(self):
        if connection.vendor != "postgresql":
            pytest.skip("the database under test is SQLite; set DATABASE_URL=postgresql://...")

    @pytest.fixture
    def renaming_function(self):
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION conductor_rename() RETURNS int LANGUAGE sql AS "
                "'UPDATE auth_user SET username = ''hacked'' RETURNING 1'"
            )
        yield "conductor_rename"
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION conductor_rename()")

    def test_pg_sleep_is_cut_off_by_the_statement_timeout(self, settings):
        settings.CONDUCTOR_SQL_TOOL_DENIED_FUNCTIONS = []
        settings.CONDUCTOR_SQL_TOOL_TIMEOUT_MS = 100

        result = call({"query": "SELECT pg_sleep(3)"})

        assert "canceling statement due to statement timeout" in failure(result)
        assert result.duration_ms < 3000

    def test_a_function_that_writes_is_refused_by_the_read_only_transaction(
        self, ada, renaming_function
    ):
        result = call({"query": f"SELECT {renaming_function}()"})

        assert "read-only transaction" in failure(result)
        assert username(ada) == "ada"

    def test_a_sequence_cannot_be_advanced(self):
        result = call({"query": "SELECT nextval(pg_get_serial_sequence('auth_user', 'id'))"})

        assert "read-only transaction" in failure(result)

    def test_postgresql_values_come_back_json_safe(self):
        result = call(
            {
                "query": "SELECT 1.50::numeric AS price, decode('00ff', 'hex') AS blob, "
                "'2025-01-02 03:04:05+00'::timestamptz AS at, '{\"a\": [1]}'::jsonb AS doc, "
                "ARRAY[1, 2] AS list"
            }
        )

        assert result.success, result.error
        assert result.result["rows"] == [
            # Django loads json as text.
            ["1.50", "AP8=", "2025-01-02T03:04:05+00:00", '{"a": [1]}', [1, 2]]
        ]

    def test_the_transaction_is_over_after_the_query(self):
        call({"query": "SELECT 1"})

        tool_connection = connections["sql_tool"]
        assert not tool_connection.in_atomic_block
        assert tool_connection.get_autocommit()
