"""N+1 guards: a page must cost the same number of queries for 1 row as for 50."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext


def count_queries(request: Callable[[], Any]) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200, getattr(response, "content", response)
    return len(captured.captured_queries), response


def assert_constant_queries(
    request: Callable[[], Any], make_rows: Callable[[int], Any], *, small: int = 1, large: int = 50
) -> int:
    """Creates ``small`` rows, counts, tops up to ``large`` rows, counts again."""
    make_rows(small)
    few, _ = count_queries(request)
    make_rows(large - small)
    many, _ = count_queries(request)
    assert few == many, f"{few} queries for {small} row(s) but {many} for {large}: an N+1"
    return many
