from __future__ import annotations

import pytest

from apps.screenplays.models import Screenplay
from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"


def test_delete_is_a_soft_delete_with_a_batch(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.delete(f"{URL}{screenplay.pk}/")

    assert response.status_code == 204
    row = Screenplay.all_objects.get(pk=screenplay.pk)
    assert row.is_deleted is True
    assert row.deleted_at is not None
    assert row.deletion_batch is not None


def test_a_deleted_screenplay_is_hidden_from_list_and_detail(editor_client):
    screenplay = ScreenplayFactory()
    editor_client.delete(f"{URL}{screenplay.pk}/")

    assert editor_client.get(URL).json()["count"] == 0
    assert_envelope(editor_client.get(f"{URL}{screenplay.pk}/"), 404, "not_found")


def test_deleting_twice_is_a_404(editor_client):
    screenplay = ScreenplayFactory(deleted=True)

    assert_envelope(editor_client.delete(f"{URL}{screenplay.pk}/"), 404)


def test_staff_see_deleted_screenplays_with_include_deleted(staff_client):
    alive = ScreenplayFactory()
    deleted = ScreenplayFactory(deleted=True)

    listed = staff_client.get(f"{URL}?include_deleted=true").json()
    detail = staff_client.get(f"{URL}{deleted.pk}/?include_deleted=true")

    assert {row["id"] for row in listed["results"]} == {alive.pk, deleted.pk}
    assert detail.status_code == 200
    assert detail.json()["is_deleted"] is True


def test_staff_can_list_only_the_deleted_ones(staff_client):
    ScreenplayFactory()
    deleted = ScreenplayFactory(deleted=True)

    listed = staff_client.get(f"{URL}?include_deleted=true&is_deleted=true").json()

    assert [row["id"] for row in listed["results"]] == [deleted.pk]


def test_include_deleted_is_forbidden_to_non_staff(viewer_client):
    response = viewer_client.get(f"{URL}?include_deleted=true")

    assert_envelope(response, 403, "permission_denied")


def test_restore_brings_a_deleted_screenplay_back(editor_client):
    screenplay = ScreenplayFactory()
    editor_client.delete(f"{URL}{screenplay.pk}/")

    response = editor_client.post(f"{URL}{screenplay.pk}/restore/")

    assert response.status_code == 200, response.content
    assert response.json()["is_deleted"] is False
    row = Screenplay.objects.get(pk=screenplay.pk)
    assert (row.deleted_at, row.deletion_batch) == (None, None)
    assert editor_client.get(f"{URL}{screenplay.pk}/").status_code == 200


def test_restoring_an_active_screenplay_is_a_409(editor_client):
    screenplay = ScreenplayFactory()

    response = editor_client.post(f"{URL}{screenplay.pk}/restore/")

    assert_envelope(response, 409, "screenplay_not_deleted")


def test_restoring_into_a_taken_file_is_a_409_and_it_stays_deleted(editor_client):
    deleted = ScreenplayFactory(deleted=True, file_path="/docs/plan.md")
    taken = ScreenplayFactory(name="Newer", file_path="/docs/plan.md")

    response = editor_client.post(f"{URL}{deleted.pk}/restore/")

    error = assert_envelope(response, 409, "duplicate_screenplay")
    assert error["details"]["id"] == taken.pk
    assert Screenplay.all_objects.get(pk=deleted.pk).is_deleted is True


def test_restoring_an_unknown_screenplay_is_a_404(editor_client):
    assert_envelope(editor_client.post(f"{URL}987654/restore/"), 404)


def test_a_viewer_can_neither_delete_nor_restore(viewer_client):
    alive = ScreenplayFactory()
    deleted = ScreenplayFactory(deleted=True)

    assert_envelope(viewer_client.delete(f"{URL}{alive.pk}/"), 403)
    assert_envelope(viewer_client.post(f"{URL}{deleted.pk}/restore/"), 403)
    assert Screenplay.objects.filter(pk=alive.pk).exists()
