"""Bugs the schema fuzzer (tests/reliability/test_schema_fuzz.py) found in the agents API."""

import pytest

from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


def test_a_partial_update_answers_every_field_even_without_a_persona(editor_client):
    """The field's default made DRF skip it on PATCH: persona_name vanished from the body."""
    AgentFactory(slug="scout", persona=None)

    response = editor_client.patch("/api/agents/scout/", {"name": "Scout"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["persona_name"] is None
