from __future__ import annotations

import pytest

from apps.tools.sql_guard import QueryRejected, check_query

DENIED = ["pg_sleep", "pg_read_file", "randomblob"]


def rejection(query: str) -> str:
    with pytest.raises(QueryRejected) as caught:
        check_query(query, denied_functions=DENIED)
    return str(caught.value)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "SELECT username FROM auth_user WHERE id = %s AND username <> %s",
        "WITH recent AS (SELECT id FROM auth_user) SELECT count(*) FROM recent",
        "SELECT * FROM auth_user WHERE id IN (SELECT user_id FROM auth_user_groups)",
        "(SELECT 1) UNION (SELECT 2)",
        "SELECT 'a; DROP TABLE x'",
        "SELECT 'DELETE FROM auth_user', 'pg_sleep(10)', 'it''s', '#1'",
        "SELECT substring(username from 1 for 2) FROM auth_user",
        'SELECT "comment", t.comment FROM t',
    ],
)
def test_it_accepts_a_single_select(query):
    assert check_query(query, denied_functions=DENIED) == query


@pytest.mark.parametrize(
    ("query", "statement"),
    [
        ("-- the newest users\nSELECT 1", "SELECT 1"),
        ("SELECT 1 /* one */ + 1", "SELECT 1   + 1"),
        ("SELECT 1; -- that's all", "SELECT 1"),
        ("SELECT 1;\n/* done */\n", "SELECT 1"),
    ],
)
def test_comments_alone_are_not_statements_and_are_stripped(query, statement):
    assert check_query(query) == statement


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELECT 1; DROP TABLE auth_user", "only one statement is allowed"),
        ("SELECT 1 -- \n; DELETE FROM auth_user", "only one statement is allowed"),
        ("SELECT 1 /* x */; DROP TABLE t", "only one statement is allowed"),
        ("SELECT a$$; DROP TABLE t; $$ FROM t", "only one statement is allowed"),
        ("/* */ DROP TABLE t", "DROP is not allowed"),
        ("COPY t TO '/tmp/x'", "COPY is not allowed"),
        ("COPY (SELECT 1) TO PROGRAM 'id'", "COPY is not allowed"),
        ("INSERT INTO t VALUES (1)", "INSERT is not allowed"),
        ("UPDATE t SET a=1", "UPDATE is not allowed"),
        ("CREATE TABLE t(a int)", "CREATE is not allowed"),
        ("SET ROLE postgres", "SET is not allowed"),
        ("PRAGMA writable_schema=1", "PRAGMA is not allowed"),
        ("ATTACH DATABASE 'x' AS y", "ATTACH is not allowed"),
        ("VALUES (1)", "only SELECT or WITH … SELECT statements are allowed, not VALUES"),
        ("EXPLAIN ANALYZE DELETE FROM t", "statements are allowed, not EXPLAIN"),
    ],
)
def test_it_rejects_anything_but_one_select(query, reason):
    assert reason in rejection(query)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "writable CTE (DELETE)"),
        (
            "WITH a AS (SELECT 1), i AS (INSERT INTO t VALUES (1) RETURNING *) SELECT 1",
            "writable CTE (INSERT)",
        ),
        ("WITH a AS (SELECT 1) UPDATE t SET x = 1", "writable CTE (UPDATE)"),
        ("SELECT * INTO new_t FROM t", "INTO is not allowed (SELECT … INTO creates a table)"),
        ("SELECT * FROM t FOR UPDATE", "FOR UPDATE/FOR SHARE locks are not allowed"),
        ("SELECT * FROM t FOR NO KEY UPDATE", "FOR UPDATE/FOR SHARE locks are not allowed"),
        ("SELECT * FROM t FOR SHARE", "FOR UPDATE/FOR SHARE locks are not allowed"),
    ],
)
def test_it_rejects_selects_that_write_or_lock(query, reason):
    assert reason in rejection(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT pg_sleep(10)",
        "SELECT PG_SLEEP(1)",
        "SELECT pg_catalog.pg_sleep(1)",
        'select "pg_sleep"(1)',
        "SELECT 1 FROM auth_user WHERE pg_sleep /* pause */ (1) IS NULL",
    ],
)
def test_it_rejects_denied_functions_however_spelled(query):
    assert rejection(query) == "function pg_sleep is not allowed"


def test_denied_functions_come_from_the_caller():
    assert check_query("SELECT pg_sleep(0)", denied_functions=[]) == "SELECT pg_sleep(0)"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        # PostgreSQL reads '\' as a whole string, so the rest would be a second statement.
        ("SELECT '\\'; COMMIT; DROP TABLE t; --'", "backslashes inside quotes"),
        ("SELECT $$x$$", "dollar quoting"),
        ('SELECT U&"pg\\0073leep"(1)', "Unicode escapes (U&) are not allowed"),
        ("SELECT U&'d\\0061t'", "Unicode escapes (U&) are not allowed"),
        ("SELECT E'\\x27'", "backslashes inside quotes"),
        ('SELECT U&"x"', "Unicode escapes (U&) are not allowed"),
        # sqlparse would strip "# 3" as a comment; PostgreSQL's # is XOR.
        ("SELECT 5 # 3", "# is not allowed outside quotes"),
    ],
)
def test_it_rejects_quoting_that_databases_read_differently(query, reason):
    assert reason in rejection(query)


def test_a_keyword_used_as_a_name_is_rejected_with_a_hint_to_quote_it():
    assert rejection("SELECT comment FROM t") == (
        'COMMENT is not allowed (quote it, as "comment", if it is a column or table name)'
    )


@pytest.mark.parametrize("query", ["", "   \n\t", "-- nothing\n", "/* nothing */", ";"])
def test_it_rejects_an_empty_query(query):
    assert rejection(query) == "query is empty"
