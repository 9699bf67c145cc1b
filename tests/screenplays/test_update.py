from __future__ import annotations

import hashlib

import pytest

from apps.screenplays.models import Screenplay
from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db


def url(screenplay: Screenplay) -> str:
    return f"/api/screenplays/{screenplay.pk}/"


def test_changing_the_content_increments_the_version_and_rehashes(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(url(screenplay), {"content": "# New\n\nText.\n"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2
    assert body["content_hash"] == hashlib.sha256(b"# New\n\nText.\n").hexdigest()


def test_every_content_change_increments_the_version(editor_client):
    screenplay = ScreenplayFactory()

    for number in range(3):
        editor_client.patch(url(screenplay), {"content": f"# V{number}\n"}, format="json")

    screenplay.refresh_from_db()
    assert screenplay.version == 4


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Other"},
        {"description": "New description"},
        {"tags": ["a", "b"]},
        {"working_directory": "/srv/other"},
        {"file_path": "/docs/other.md"},
    ],
)
def test_changing_other_fields_keeps_the_version(editor_client, change):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(url(screenplay), change, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 1


def test_saving_the_same_content_again_keeps_the_version(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(url(screenplay), {"content": screenplay.content}, format="json")

    assert response.json()["version"] == 1


def test_put_replaces_the_writable_fields(editor_client):
    screenplay = ScreenplayFactory(description="old", tags=["old"])

    response = editor_client.put(
        url(screenplay), {"name": "Whole", "content": "# Whole\n"}, format="json"
    )

    assert response.status_code == 200, response.content
    screenplay.refresh_from_db()
    assert (screenplay.name, screenplay.content, screenplay.version) == ("Whole", "# Whole\n", 2)


def test_put_without_required_fields_is_a_400(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.put(url(screenplay), {"name": "Only a name"}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "content" in error["details"]


def test_clearing_the_file_path_clears_the_file_key(editor_client):
    screenplay = ScreenplayFactory(file_path="/docs/plan.md")

    response = editor_client.patch(url(screenplay), {"file_path": ""}, format="json")

    assert response.json()["file_key"] == ""


@pytest.mark.parametrize(
    "change",
    [{"name": ""}, {"name": "n" * 201}, {"tags": [1]}, {"working_directory": "rel"}],
)
def test_a_bad_update_is_a_400_and_changes_nothing(editor_client, change):
    screenplay = ScreenplayFactory(name="Kept")

    response = editor_client.patch(url(screenplay), change, format="json")

    assert_envelope(response, 400, "validation_error")
    screenplay.refresh_from_db()
    assert screenplay.name == "Kept"


@pytest.mark.parametrize("path", ["/api/screenplays/999999/", "/api/screenplays/abc/"])
def test_an_unknown_or_malformed_id_is_a_404(editor_client, path):
    response = editor_client.patch(path, {"name": "x"}, format="json")

    assert_envelope(response, 404, "not_found")


def test_a_huge_id_is_a_404(editor_client):
    response = editor_client.get("/api/screenplays/99999999999999999999999/")

    assert_envelope(response, 404, "not_found")
