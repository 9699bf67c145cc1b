from __future__ import annotations

import pytest

from apps.personas.models import Persona
from tests.factories import PersonaFactory
from tests.personas.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "metadata": ["not", "an", "object"]}, "metadata"),
        ({"name": "X", "metadata": "text"}, "metadata"),
        ({"name": "X", "metadata": {"blob": "x" * 5200}}, "metadata"),
        ({"name": "X", "content": "x" * 50_001}, "content"),
        ({"name": "X", "content": "bell \x07 here"}, "content"),
        ({"name": "X", "content": "lone \r carriage return"}, "content"),
        ({"name": "X", "content": None}, "content"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"content": "no name"}, "name"),
        ({"name": "X", "change_reason": "r" * 256}, "change_reason"),
        ({"name": "X", "change_reason": "esc \x1b"}, "change_reason"),
    ],
)
def test_it_rejects_bad_input_with_a_validation_envelope(editor_client, payload, field):
    response = editor_client.post("/api/personas/", payload, format="json")

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    assert not Persona.objects.exists()


def test_it_accepts_content_at_the_limit_and_tabs(editor_client):
    content = "\t" + "x" * 49_999
    response = editor_client.post(
        "/api/personas/", {"name": "Big", "content": content}, format="json"
    )

    assert response.status_code == 201, response.content


def test_it_answers_a_duplicate_name_with_a_conflict(editor_client):
    PersonaFactory(name="Taken")

    response = editor_client.post("/api/personas/", {"name": "Taken"}, format="json")

    error = assert_error(response, 409, "duplicate_persona_name")
    assert error["details"] == {"name": "Taken"}


def test_it_answers_a_rename_onto_another_persona_with_a_conflict(editor_client, persona):
    PersonaFactory(name="Taken")

    response = editor_client.patch(f"/api/personas/{persona.pk}/", {"name": "Taken"}, format="json")

    assert_error(response, 409, "duplicate_persona_name")
    persona.refresh_from_db()
    assert persona.name == "Reviewer"


def test_it_rejects_bad_updates_without_creating_a_version(editor_client, persona):
    response = editor_client.patch(
        f"/api/personas/{persona.pk}/", {"content": "\x00"}, format="json"
    )

    assert_error(response, 400, "validation_error")
    assert persona.history.count() == 1


def test_it_answers_a_missing_persona_with_a_not_found_envelope(viewer_client):
    assert_error(viewer_client.get("/api/personas/999/"), 404, "not_found")
    assert_error(viewer_client.get("/api/personas/abc/"), 404, "not_found")
    assert_error(viewer_client.get("/api/personas/99999999999999999999999/"), 404, "not_found")


def test_it_rejects_a_bad_delete_reason(editor_client, persona):
    response = editor_client.delete(f"/api/personas/{persona.pk}/?change_reason=" + "r" * 300)

    assert_error(response, 400, "validation_error")
    assert Persona.objects.filter(pk=persona.pk).exists()
