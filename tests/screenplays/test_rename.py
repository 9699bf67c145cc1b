from __future__ import annotations

import hashlib

import pytest

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db


def url(screenplay) -> str:
    return f"/api/screenplays/{screenplay.pk}/rename/"


def test_it_renames_and_leaves_the_files_alone_by_default(editor_client):
    screenplay = ScreenplayFactory(file_path="/docs/old.md", export_path="/out/old.md")

    response = editor_client.post(url(screenplay), {"new_name": "Big Launch"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Big Launch"
    assert (body["file_path"], body["export_path"]) == ("/docs/old.md", "/out/old.md")
    assert body["version"] == 1


def test_with_update_file_paths_the_file_names_follow_the_new_name(editor_client):
    screenplay = ScreenplayFactory(
        file_path="/docs/old.md", export_path="/out/old.markdown", import_path="/in/old.md"
    )

    response = editor_client.post(
        url(screenplay), {"new_name": "Big Launch!", "update_file_paths": True}, format="json"
    )

    body = response.json()
    assert body["file_path"] == "/docs/big-launch.md"
    assert body["export_path"] == "/out/big-launch.md"
    assert body["import_path"] == "/in/old.md"
    assert body["file_key"] == hashlib.sha256(b"/docs/big-launch.md").hexdigest()


def test_updating_file_paths_of_a_screenplay_without_files_keeps_them_empty(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.post(
        url(screenplay), {"new_name": "New", "update_file_paths": True}, format="json"
    )

    assert (response.json()["file_path"], response.json()["file_key"]) == ("", "")


def test_a_renamed_file_that_collides_is_a_409_and_nothing_changes(editor_client):
    other = ScreenplayFactory(name="Taken", file_path="/docs/big-launch.md")
    screenplay = ScreenplayFactory(name="Mine", file_path="/docs/old.md")

    response = editor_client.post(
        url(screenplay), {"new_name": "Big Launch", "update_file_paths": True}, format="json"
    )

    error = assert_envelope(response, 409, "duplicate_screenplay")
    assert error["details"] == {"id": other.pk, "name": "Taken", "match": "file_key"}
    screenplay.refresh_from_db()
    assert (screenplay.name, screenplay.file_path) == ("Mine", "/docs/old.md")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"new_name": ""},
        {"new_name": "   "},
        {"new_name": "x" * 201},
        {"new_name": 5},
        {"new_name": "ok", "update_file_paths": "sometimes"},
    ],
)
def test_bad_input_is_a_400(editor_client, body):
    screenplay = ScreenplayFactory()

    response = editor_client.post(url(screenplay), body, format="json")

    assert_envelope(response, 400, "validation_error")


def test_a_viewer_cannot_rename(viewer_client):
    screenplay = ScreenplayFactory()

    response = viewer_client.post(url(screenplay), {"new_name": "x"}, format="json")

    assert_envelope(response, 403, "permission_denied")


def test_renaming_a_deleted_screenplay_is_a_404(editor_client):
    screenplay = ScreenplayFactory(deleted=True)

    response = editor_client.post(url(screenplay), {"new_name": "x"}, format="json")

    assert_envelope(response, 404, "not_found")
