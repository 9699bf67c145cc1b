"""Content with only warnings needs force; content with errors never saves."""

from __future__ import annotations

import pytest

from apps.screenplays.models import Screenplay
from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"
WARNED = "# Title\n\n### Skipped a level\n"
BROKEN = "# Title\n\n####### too deep\n\n### skipped\n"


def test_create_without_force_rejects_warnings_listing_them(editor_client):
    response = editor_client.post(URL, {"name": "W", "content": WARNED}, format="json")

    error = assert_envelope(response, 400, "markdown_warnings")
    assert error["details"]["warnings"][0]["line"] == 3
    assert error["details"]["warnings"][0]["code"] == "skipped_heading_level"
    assert error["details"]["force_required"] is True
    assert not Screenplay.all_objects.exists()


def test_create_with_force_in_the_body_stores_content_with_warnings(editor_client):
    response = editor_client.post(
        URL, {"name": "W", "content": WARNED, "force": True}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Screenplay.objects.get().content == WARNED


def test_create_with_force_as_a_query_parameter_stores_content_with_warnings(editor_client):
    response = editor_client.post(
        f"{URL}?force=true", {"name": "W", "content": WARNED}, format="json"
    )

    assert response.status_code == 201, response.content


def test_a_false_force_in_the_body_wins_over_the_query_parameter(editor_client):
    response = editor_client.post(
        f"{URL}?force=true", {"name": "W", "content": WARNED, "force": False}, format="json"
    )

    assert_envelope(response, 400, "markdown_warnings")


def test_a_non_boolean_force_query_parameter_is_a_400(editor_client):
    response = editor_client.post(
        f"{URL}?force=perhaps", {"name": "W", "content": WARNED}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "force" in error["details"]


def test_force_never_stores_content_with_errors(editor_client):
    response = editor_client.post(
        URL, {"name": "B", "content": BROKEN, "force": True}, format="json"
    )

    error = assert_envelope(response, 400, "invalid_markdown")
    assert [(e["line"], e["code"]) for e in error["details"]["errors"]] == [(3, "heading_too_deep")]
    assert not Screenplay.all_objects.exists()


def test_update_without_force_rejects_warnings_and_keeps_the_old_content(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(f"{URL}{screenplay.pk}/", {"content": WARNED}, format="json")

    assert_envelope(response, 400, "markdown_warnings")
    screenplay.refresh_from_db()
    assert screenplay.content != WARNED
    assert screenplay.version == 1


def test_update_with_force_stores_content_with_warnings(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(
        f"{URL}{screenplay.pk}/?force=1", {"content": WARNED}, format="json"
    )

    assert response.status_code == 200, response.content
    screenplay.refresh_from_db()
    assert screenplay.content == WARNED


def test_update_with_force_still_rejects_errors(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.put(
        f"{URL}{screenplay.pk}/",
        {"name": "x", "content": "# T\n\n```\n", "force": True},
        format="json",
    )

    assert_envelope(response, 400, "invalid_markdown")
    screenplay.refresh_from_db()
    assert screenplay.name != "x"


def test_changing_other_fields_of_a_forced_screenplay_needs_no_force_again(editor_client):
    screenplay = ScreenplayFactory(content=WARNED)

    response = editor_client.patch(f"{URL}{screenplay.pk}/", {"name": "Renamed"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Renamed"
