"""Bugs the schema fuzzer (tests/reliability/test_schema_fuzz.py) found in the councilors API."""

import pytest

from tests.councilors.helpers import promote_body
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db


def test_an_agent_slug_with_a_nul_byte_is_invalid_input(editor_client, native_agent):
    """PostgreSQL refuses NUL in a query parameter: the slug lookup answered 500 there."""
    body = promote_body(agent="native\x00")

    response = editor_client.post("/api/councilors/promote/", body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert error["details"]["agent"] == ["Null characters are not allowed."]
