"""Bugs the schema fuzzer (tests/reliability/test_schema_fuzz.py) found in the runs API."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.envelope import assert_envelope
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["agent", "agent_id"])
def test_an_agent_slug_with_a_nul_byte_is_invalid_input(viewer_client, native_agent, field):
    """PostgreSQL refuses NUL in a query parameter: the slug lookup answered 500 there."""
    body = {field: "native\x00", "input": "Please echo hi", "cwd": "/srv/project"}

    response = viewer_client.post("/api/runs/", body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert error["details"][field] == ["Null characters are not allowed."]


def _at_offset(moment: datetime, hours: int) -> str:
    return moment.astimezone(timezone(timedelta(hours=hours))).isoformat()


def test_a_date_filter_compares_moments_whatever_the_offset(viewer, viewer_client):
    """+22:00 is valid ISO 8601 but past PostgreSQL's ±15:59: the filter answered 500 there."""
    RunFactory(created_by=viewer)
    now = datetime.now(UTC)

    def count(created_after: str) -> int:
        response = viewer_client.get("/api/runs/", {"created_after": created_after})
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count(_at_offset(now - timedelta(hours=1), 22)) == 1
    assert count(_at_offset(now + timedelta(hours=1), 22)) == 0


def test_a_date_outside_the_calendar_once_in_utc_is_invalid_input(viewer_client):
    response = viewer_client.get("/api/runs/", {"created_before": "0001-01-01T00:00:00+01:00"})

    error = assert_envelope(response, 400, "validation_error")
    assert list(error["details"]) == ["created_before"]
