from __future__ import annotations

import pytest

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db


def url(screenplay) -> str:
    return f"/api/screenplays/{screenplay.pk}/working-directory/"


def test_it_sets_an_absolute_working_directory(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(
        url(screenplay), {"working_directory": "/srv/app"}, format="json"
    )

    assert response.status_code == 200, response.content
    screenplay.refresh_from_db()
    assert screenplay.working_directory == "/srv/app"
    assert screenplay.version == 1


def test_it_clears_the_working_directory_with_a_blank(editor_client):
    screenplay = ScreenplayFactory(working_directory="/srv/app")

    response = editor_client.patch(url(screenplay), {"working_directory": ""}, format="json")

    assert response.json()["working_directory"] == ""


@pytest.mark.parametrize("value", ["relative/dir", "./here", "~/home", "/srv/../etc", "/a\x00b"])
def test_it_rejects_relative_or_unsafe_paths(editor_client, value):
    screenplay = ScreenplayFactory(working_directory="/kept")

    response = editor_client.patch(url(screenplay), {"working_directory": value}, format="json")

    assert_envelope(response, 400, "validation_error")
    screenplay.refresh_from_db()
    assert screenplay.working_directory == "/kept"


@pytest.mark.parametrize("body", [{}, {"working_directory": None}, {"working_directory": 1}])
def test_it_rejects_a_missing_or_non_string_value(editor_client, body):
    screenplay = ScreenplayFactory()

    response = editor_client.patch(url(screenplay), body, format="json")

    assert_envelope(response, 400, "validation_error")


def test_a_viewer_cannot_change_it(viewer_client):
    screenplay = ScreenplayFactory()

    response = viewer_client.patch(url(screenplay), {"working_directory": "/x"}, format="json")

    assert_envelope(response, 403)


def test_post_is_not_allowed(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.post(url(screenplay), {"working_directory": "/x"}, format="json")

    assert_envelope(response, 405, "method_not_allowed")
