"""Whatever the body, every endpoint answers a 4xx envelope, never a 500."""

from __future__ import annotations

import pytest

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/screenplays/"),
    ("put", "/api/screenplays/{pk}/"),
    ("patch", "/api/screenplays/{pk}/"),
    ("post", "/api/screenplays/{pk}/rename/"),
    ("patch", "/api/screenplays/{pk}/working-directory/"),
    ("post", "/api/screenplays/validate-markdown/"),
    ("post", "/api/screenplays/check-duplicate/"),
]
BODIES = [["a", "list"], "a string", 42, None, {"name": {"nested": True}, "content": {"x": 1}}]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("body", BODIES)
def test_a_body_of_the_wrong_shape_is_a_400(editor_client, method, path, body):
    screenplay = ScreenplayFactory()
    url = path.format(pk=screenplay.pk)

    response = getattr(editor_client, method)(url, body, format="json")

    if method == "patch" and path.endswith("{pk}/") and body is None:
        assert response.status_code == 200  # an empty partial update changes nothing
    else:
        assert_envelope(response, 400)


def test_a_form_encoded_create_works_too(editor_client):
    response = editor_client.post(
        "/api/screenplays/", {"name": "Form", "content": "# Form\n", "tags": ["a", "b"]}
    )

    assert response.status_code == 201, response.content
    assert response.json()["tags"] == ["a", "b"]


def test_a_huge_content_is_a_400(editor_client):
    response = editor_client.post(
        "/api/screenplays/",
        {"name": "Huge", "content": "# H\n\n" + ("word " * 20 + "\n") * 11_000, "force": True},
        format="json",
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "content" in error["details"]


def test_content_with_a_control_character_is_a_400_with_its_line(editor_client):
    response = editor_client.post(
        "/api/screenplays/", {"name": "Ctl", "content": "# T\n\nbell\x07\n"}, format="json"
    )

    error = assert_envelope(response, 400, "invalid_markdown")
    assert error["details"]["errors"][0] == {
        "line": 3,
        "code": "control_characters",
        "message": "Control characters are not allowed.",
    }
