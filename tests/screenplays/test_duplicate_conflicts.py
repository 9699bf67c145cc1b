"""Creating or updating into another active screenplay's file or content is a 409."""

from __future__ import annotations

import pytest

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"


def test_creating_at_another_screenplays_file_key_is_a_409_naming_it(editor_client):
    other = ScreenplayFactory(name="Original", file_path="/docs/plan.md")

    response = editor_client.post(
        URL,
        {"name": "New", "content": "# Fresh\n", "file_path": "/docs//./plan.md"},
        format="json",
    )

    error = assert_envelope(response, 409, "duplicate_screenplay")
    assert error["details"] == {"id": other.pk, "name": "Original", "match": "file_key"}
    assert "Original" in error["message"]


def test_creating_with_another_screenplays_content_is_a_409_naming_it(editor_client):
    other = ScreenplayFactory(name="Original", content="# Same\n\nText.\n")

    response = editor_client.post(
        URL, {"name": "New", "content": "# Same\r\n\r\nText.\r\n"}, format="json"
    )

    error = assert_envelope(response, 409, "duplicate_screenplay")
    assert error["details"] == {"id": other.pk, "name": "Original", "match": "content_hash"}


def test_updating_into_another_screenplays_file_key_is_a_409(editor_client):
    other = ScreenplayFactory(name="Original", file_path="/docs/plan.md")
    mine = ScreenplayFactory(file_path="/docs/mine.md")

    response = editor_client.patch(
        f"{URL}{mine.pk}/", {"file_path": "/docs/plan.md"}, format="json"
    )

    error = assert_envelope(response, 409, "duplicate_screenplay")
    assert error["details"]["id"] == other.pk
    mine.refresh_from_db()
    assert mine.file_path == "/docs/mine.md"


def test_updating_into_another_screenplays_content_is_a_409(editor_client):
    other = ScreenplayFactory(name="Original")
    mine = ScreenplayFactory()

    response = editor_client.patch(f"{URL}{mine.pk}/", {"content": other.content}, format="json")

    error = assert_envelope(response, 409, "duplicate_screenplay")
    assert error["details"] == {"id": other.pk, "name": "Original", "match": "content_hash"}


def test_a_screenplay_is_not_a_duplicate_of_itself(editor_client):
    mine = ScreenplayFactory(file_path="/docs/mine.md")

    response = editor_client.put(
        f"{URL}{mine.pk}/",
        {"name": "Same", "content": mine.content, "file_path": "/docs/mine.md"},
        format="json",
    )

    assert response.status_code == 200, response.content


def test_a_deleted_screenplay_does_not_count_as_a_duplicate(editor_client):
    deleted = ScreenplayFactory(deleted=True, file_path="/docs/plan.md")

    response = editor_client.post(
        URL,
        {"name": "New", "content": deleted.content, "file_path": "/docs/plan.md"},
        format="json",
    )

    assert response.status_code == 201, response.content
