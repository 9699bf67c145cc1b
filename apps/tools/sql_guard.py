"""Static checks that let only a single read-only SELECT through to the sql_query tool.

The guard is the first of three layers: the statement also runs in a read-only
transaction (PostgreSQL) or on a ``query_only`` connection (SQLite), and the
driver refuses a second statement (a PostgreSQL server-side cursor, SQLite's
one-statement ``execute``). Where sqlparse and the database might read the text
differently (backslash escapes, dollar quotes, Unicode escapes), the guard rejects.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import sqlparse
from sqlparse import tokens as T
from sqlparse.sql import Statement, Token

ALLOWED_FIRST_KEYWORDS = frozenset({"SELECT", "WITH"})
WRITE_KEYWORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
FORBIDDEN_KEYWORDS = WRITE_KEYWORDS | frozenset(
    {
        "DROP", "CREATE", "ALTER", "TRUNCATE", "GRANT", "REVOKE", "COPY", "VACUUM",
        "ATTACH", "DETACH", "PRAGMA", "SET", "LOCK", "CALL", "DO", "EXECUTE", "PREPARE",
        "LISTEN", "NOTIFY", "REINDEX", "CLUSTER", "REFRESH", "COMMENT", "SECURITY", "INTO",
    }
)  # fmt: skip
LOCK_WORDS_AFTER_FOR = frozenset({"UPDATE", "SHARE", "NO", "KEY"})
QUOTED = (T.String.Single, T.String.Symbol)


class QueryRejected(ValueError):
    """The query is not a single read-only SELECT; the message says why."""


def check_query(query: str, *, denied_functions: Collection[str] = ()) -> str:
    """Returns the statement to execute: comments stripped, no trailing semicolon."""
    statement = _single_statement(query)
    tokens = [token for token in statement.flatten() if not token.is_whitespace]
    _check_quoting(tokens)
    first_word = _check_first_word(tokens)
    _check_locks(tokens)
    _check_keywords(tokens, is_cte=first_word == "WITH")
    _check_functions(tokens, {name.lower() for name in denied_functions})
    return str(statement).strip().rstrip(";").strip()


def _single_statement(query: str) -> Statement:
    _check_hash_comments(query)
    stripped = sqlparse.format(query, strip_comments=True).strip()
    texts = [text for text in sqlparse.split(stripped) if text.strip().rstrip(";").strip()]
    if not texts:
        raise QueryRejected("query is empty")
    if len(texts) > 1:
        raise QueryRejected("only one statement is allowed")
    return sqlparse.parse(texts[0])[0]


def _check_hash_comments(query: str) -> None:
    """sqlparse reads # as a MySQL comment; to PostgreSQL it is an operator."""
    for statement in sqlparse.parse(query):
        for token in statement.flatten():
            if token.ttype in T.Comment and token.value.startswith("#"):
                raise QueryRejected("# is not allowed outside quotes")


def _check_quoting(tokens: list[Token]) -> None:
    for token, following in _pairs(tokens):
        if token.ttype is T.Error:
            raise QueryRejected(f"could not parse the query near {token.value!r}")
        if token.ttype in QUOTED and "\\" in token.value:
            raise QueryRejected(
                "backslashes inside quotes are not allowed (databases escape them differently)"
            )
        if token.ttype not in QUOTED and "$" in token.value:
            raise QueryRejected("dollar quoting and $ outside quotes are not allowed")
        if token.value.upper() == "U" and following is not None and following.value == "&":
            raise QueryRejected("Unicode escapes (U&) are not allowed")


def _check_first_word(tokens: list[Token]) -> str:
    first = next((t for t in tokens if t.ttype is not T.Punctuation), tokens[0])
    word = first.value.split()[0].upper()
    if word in ALLOWED_FIRST_KEYWORDS:
        return word
    if word in FORBIDDEN_KEYWORDS:
        raise QueryRejected(f"{word} is not allowed")
    raise QueryRejected(f"only SELECT or WITH … SELECT statements are allowed, not {word}")


def _check_locks(tokens: list[Token]) -> None:
    for token, following in _pairs(tokens):
        if (
            token.is_keyword
            and token.normalized == "FOR"
            and following is not None
            and following.normalized in LOCK_WORDS_AFTER_FOR
        ):
            raise QueryRejected("FOR UPDATE/FOR SHARE locks are not allowed")


def _check_keywords(tokens: list[Token], *, is_cte: bool) -> None:
    for token in tokens:
        word = token.normalized
        if not token.is_keyword or word not in FORBIDDEN_KEYWORDS:
            continue
        if is_cte and word in WRITE_KEYWORDS:
            raise QueryRejected(f"writable CTE ({word}) is not allowed")
        if word == "INTO":
            raise QueryRejected("INTO is not allowed (SELECT … INTO creates a table)")
        raise QueryRejected(
            f'{word} is not allowed (quote it, as "{token.value.lower()}", '
            "if it is a column or table name)"
        )


def _check_functions(tokens: list[Token], denied: set[str]) -> None:
    for token in tokens:
        if token.ttype is T.String.Symbol or token.ttype in T.Name or token.is_keyword:
            name = token.value.strip('"`[]').lower()
            if name in denied:
                raise QueryRejected(f"function {name} is not allowed")


def _pairs(tokens: list[Token]) -> Iterator[tuple[Token, Token | None]]:
    yield from zip(tokens, [*tokens[1:], None], strict=True)
