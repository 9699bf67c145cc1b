from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db


def url(screenplay) -> str:
    return f"/api/screenplays/{screenplay.pk}/mark-as-used/"


def test_it_sets_last_used_at_to_now_without_touching_the_version(editor_client):
    screenplay = ScreenplayFactory()
    before = timezone.now()

    response = editor_client.post(url(screenplay))

    assert response.status_code == 200
    screenplay.refresh_from_db()
    assert before <= screenplay.last_used_at <= timezone.now()
    assert screenplay.version == 1
    assert response.json()["last_used_at"] is not None


def test_marking_again_moves_last_used_at_forward(editor_client):
    screenplay = ScreenplayFactory(last_used_at=timezone.now() - timedelta(days=3))

    editor_client.post(url(screenplay))

    screenplay.refresh_from_db()
    assert screenplay.last_used_at > timezone.now() - timedelta(minutes=1)


def test_a_viewer_cannot_mark_as_used(viewer_client):
    screenplay = ScreenplayFactory()

    response = viewer_client.post(url(screenplay))

    assert_envelope(response, 403)
    screenplay.refresh_from_db()
    assert screenplay.last_used_at is None


def test_anonymous_users_get_401(api_client):
    screenplay = ScreenplayFactory()

    assert_envelope(api_client.post(url(screenplay)), 401)


def test_an_unknown_screenplay_is_a_404(editor_client):
    assert_envelope(editor_client.post("/api/screenplays/424242/mark-as-used/"), 404)
