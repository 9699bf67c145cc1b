from __future__ import annotations

import pytest

from apps.personas import services
from tests.personas.conftest import assert_error, versions_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_versions(persona, editor):
    for number in range(2, 6):
        services.persona_update(persona=persona, actor=editor, content=f"version {number}")
    return persona


def test_it_keeps_only_the_newest_versions(staff_client, five_versions):
    response = staff_client.post(
        versions_url(five_versions, "cleanup/"), {"keep": 2}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": 3, "kept": 2}
    listed = staff_client.get(versions_url(five_versions)).json()["results"]
    assert [row["version"] for row in listed] == [5, 4]


def test_it_never_reuses_a_pruned_version_number(staff_client, editor_client, five_versions):
    staff_client.post(versions_url(five_versions, "cleanup/"), {"keep": 1}, format="json")

    response = editor_client.patch(
        f"/api/personas/{five_versions.pk}/", {"content": "after cleanup"}, format="json"
    )

    assert response.json()["version"] == 6
    listed = staff_client.get(versions_url(five_versions)).json()["results"]
    assert [row["version"] for row in listed] == [6, 5]


def test_it_keeps_everything_when_keep_exceeds_the_count(staff_client, five_versions):
    response = staff_client.post(
        versions_url(five_versions, "cleanup/"), {"keep": 50}, format="json"
    )

    assert response.json() == {"deleted": 0, "kept": 5}


@pytest.mark.parametrize("keep", [0, -1, "two", 2.5, None, 10**30])
def test_it_rejects_a_bad_keep(staff_client, five_versions, keep):
    response = staff_client.post(
        versions_url(five_versions, "cleanup/"), {"keep": keep}, format="json"
    )

    error = assert_error(response, 400, "validation_error")
    assert "keep" in error["details"]
    assert five_versions.history.count() == 5


def test_it_requires_keep(staff_client, five_versions):
    response = staff_client.post(versions_url(five_versions, "cleanup/"), {}, format="json")

    assert_error(response, 400, "validation_error")
