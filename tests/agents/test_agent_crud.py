import pytest

from apps.agents.models import Agent
from apps.personas.models import Persona
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

VALID = {
    "slug": "code_reviewer",
    "name": "Code Reviewer",
    "emoji": "🔍",
    "description": "Reviews pull requests for bugs and style.",
    "group": "engineering",
    "tags": ["code", "review"],
    "model": "anthropic/claude-3-5-haiku",
    "tools": ["web_fetch"],
    "mcp_configs": {"servers": {}},
    "max_steps": 12,
}


def test_an_editor_creates_an_agent_with_a_persona(editor_client):
    persona = Persona.objects.create(name="Reviewer", content="You review code.")

    response = editor_client.post("/api/agents/", {**VALID, "persona": persona.pk}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "code_reviewer"
    assert body["persona"] == persona.pk
    assert body["persona_name"] == "Reviewer"
    assert body["is_active"] is True
    assert Agent.objects.get(slug="code_reviewer").tags == ["code", "review"]


def test_max_steps_defaults_to_ten(editor_client):
    payload = {key: value for key, value in VALID.items() if key != "max_steps"}

    response = editor_client.post("/api/agents/", payload, format="json")

    assert response.status_code == 201
    assert response.json()["max_steps"] == 10


def test_agents_are_looked_up_by_slug(viewer_client):
    AgentFactory(slug="writer", name="Writer")

    response = viewer_client.get("/api/agents/writer/")

    assert response.status_code == 200
    assert response.json()["name"] == "Writer"


def test_an_unknown_slug_is_404_with_the_envelope(viewer_client):
    response = viewer_client.get("/api/agents/nobody/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_list_is_paginated_and_filterable(viewer_client):
    AgentFactory(slug="a1", group="engineering")
    AgentFactory(slug="a2", group="sales")
    AgentFactory(slug="a3", group="engineering", is_active=False)

    everything = viewer_client.get("/api/agents/").json()
    engineering = viewer_client.get("/api/agents/?group=engineering&is_active=true").json()

    assert set(everything) == {"count", "next", "previous", "results"}
    assert everything["count"] == 3
    assert [agent["slug"] for agent in engineering["results"]] == ["a1"]


def test_the_list_filters_by_tag(viewer_client):
    AgentFactory(slug="tagged", tags=["python", "review"])
    AgentFactory(slug="untagged", tags=["sales"])

    response = viewer_client.get("/api/agents/?tag=python")

    assert [agent["slug"] for agent in response.json()["results"]] == ["tagged"]


def test_an_editor_updates_and_deletes_an_agent(editor_client):
    AgentFactory(slug="writer", max_steps=5)

    patched = editor_client.patch("/api/agents/writer/", {"max_steps": 20}, format="json")
    deleted = editor_client.delete("/api/agents/writer/")

    assert patched.status_code == 200
    assert patched.json()["max_steps"] == 20
    assert deleted.status_code == 204
    assert not Agent.objects.filter(slug="writer").exists()


def test_anonymous_requests_get_401(api_client):
    AgentFactory(slug="writer")

    assert api_client.get("/api/agents/").status_code == 401
    assert api_client.post("/api/agents/", VALID, format="json").status_code == 401


def test_a_viewer_reads_but_cannot_write(viewer_client):
    AgentFactory(slug="writer")

    assert viewer_client.get("/api/agents/writer/").status_code == 200
    created = viewer_client.post("/api/agents/", VALID, format="json")
    patched = viewer_client.patch("/api/agents/writer/", {"name": "X"}, format="json")
    deleted = viewer_client.delete("/api/agents/writer/")

    for response in (created, patched, deleted):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
    assert Agent.objects.get(slug="writer").name != "X"
