"""Bugs the schema fuzzer (tests/reliability/test_schema_fuzz.py) found in the screenplays API."""

import pytest

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"


def test_a_date_filter_takes_offsets_postgresql_does_not(viewer_client):
    """+22:42 is valid ISO 8601 but past PostgreSQL's ±15:59: the filter answered 500 there."""
    ScreenplayFactory()

    response = viewer_client.get(URL, {"updated_after": "2000-01-01T00:00:00+22:42"})

    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1


def test_a_date_outside_the_calendar_once_in_utc_is_invalid_input(viewer_client):
    response = viewer_client.get(URL, {"created_after": "0001-01-01T00:00:00+01:00"})

    error = assert_envelope(response, 400, "validation_error")
    assert list(error["details"]) == ["created_after"]
