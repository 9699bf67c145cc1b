from __future__ import annotations

import pytest

from apps.personas.models import Persona
from tests.factories import AgentFactory, PersonaFactory
from tests.personas.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_it_creates_a_persona_as_version_one_by_the_caller(editor_client, editor):
    response = editor_client.post(
        "/api/personas/",
        {"name": "Critic", "content": "# Critic\n", "metadata": {"tone": "dry"}},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Critic"
    assert body["content"] == "# Critic\n"
    assert body["metadata"] == {"tone": "dry"}
    assert body["version"] == 1
    assert "change_reason" not in body
    assert Persona.objects.get(pk=body["id"]).history.get().history_user == editor


def test_it_lists_personas_paginated(viewer_client):
    PersonaFactory.create_batch(3)

    body = viewer_client.get("/api/personas/?page_size=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert body["previous"] is None


def test_it_searches_names_and_content(viewer_client):
    PersonaFactory(name="Pirate", content="Speak like a sailor")
    PersonaFactory(name="Poet", content="Rhyme everything")

    by_name = viewer_client.get("/api/personas/?search=pirate").json()["results"]
    by_content = viewer_client.get("/api/personas/?search=rhyme").json()["results"]

    assert [row["name"] for row in by_name] == ["Pirate"]
    assert [row["name"] for row in by_content] == ["Poet"]


def test_it_orders_by_the_requested_field(viewer_client):
    PersonaFactory(name="Alpha")
    PersonaFactory(name="Beta")

    results = viewer_client.get("/api/personas/?ordering=-name").json()["results"]

    assert [row["name"] for row in results] == ["Beta", "Alpha"]


def test_it_reads_one_persona_with_its_current_version(viewer_client, persona):
    body = viewer_client.get(f"/api/personas/{persona.pk}/").json()

    assert body["name"] == "Reviewer"
    assert body["version"] == 1


def test_it_updates_a_persona_as_a_new_version_with_the_reason(editor_client, persona, editor):
    response = editor_client.patch(
        f"/api/personas/{persona.pk}/",
        {"content": "new words", "change_reason": "Tighter voice"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["content"] == "new words"
    latest = persona.history.order_by("-version").first()
    assert (latest.history_user, latest.history_change_reason) == (editor, "Tighter voice")


def test_it_replaces_a_persona_with_put(editor_client, persona):
    response = editor_client.put(
        f"/api/personas/{persona.pk}/",
        {"name": "Reviewer 2", "content": "all new", "metadata": {}},
        format="json",
    )

    assert response.status_code == 200, response.content
    persona.refresh_from_db()
    assert (persona.name, persona.content, persona.metadata) == ("Reviewer 2", "all new", {})


def test_it_deletes_a_persona_and_records_who_and_why(editor_client, persona, editor):
    history = Persona.history.model.objects.filter(id=persona.pk)

    response = editor_client.delete(
        f"/api/personas/{persona.pk}/", {"change_reason": "Retired"}, format="json"
    )

    assert response.status_code == 204
    assert not Persona.objects.filter(pk=persona.pk).exists()
    deletion = history.order_by("-version").first()
    assert deletion.history_type == "-"
    assert deletion.version == 2
    assert (deletion.history_user, deletion.history_change_reason) == (editor, "Retired")


def test_it_takes_the_delete_reason_from_the_query_string(editor_client, persona):
    response = editor_client.delete(f"/api/personas/{persona.pk}/?change_reason=Obsolete")

    assert response.status_code == 204
    deletion = Persona.history.model.objects.get(id=persona.pk, history_type="-")
    assert deletion.history_change_reason == "Obsolete"


def test_it_normalises_windows_line_endings(editor_client):
    response = editor_client.post(
        "/api/personas/", {"name": "Windows", "content": "one\r\ntwo\r\n"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Persona.objects.get(name="Windows").content == "one\ntwo\n"


def test_it_refuses_to_delete_a_persona_an_agent_speaks_with(editor_client, persona):
    AgentFactory(persona=persona, slug="critic")

    response = editor_client.delete(f"/api/personas/{persona.pk}/")

    error = assert_error(response, 409, "persona_in_use")
    assert error["details"]["used_by"]
    assert Persona.objects.filter(pk=persona.pk).exists()
    assert persona.history.count() == 1
