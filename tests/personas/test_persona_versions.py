from __future__ import annotations

import pytest

from apps.personas import services
from tests.factories import PersonaFactory
from tests.personas.conftest import assert_error, versions_url

pytestmark = pytest.mark.django_db


def test_it_lists_versions_newest_first_with_who_why_and_content(
    viewer_client, persona, editor, other_user
):
    services.persona_update(
        persona=persona, actor=other_user, content="second", change_reason="Shorter"
    )

    body = viewer_client.get(versions_url(persona)).json()

    assert body["count"] == 2
    assert body["previous"] is None
    newest, oldest = body["results"]
    assert newest["version"] == 2
    assert newest["history_user"] == "other"
    assert newest["change_reason"] == "Shorter"
    assert newest["history_type"] == "changed"
    assert newest["content"] == "second"
    assert newest["history_date"]
    assert oldest["version"] == 1
    assert oldest["history_user"] == "editor"
    assert oldest["history_type"] == "created"
    assert oldest["content"] == "line one\nline two\n"


def test_it_paginates_versions(viewer_client, persona, editor):
    for number in range(3):
        services.persona_update(persona=persona, actor=editor, content=f"v{number}")

    body = viewer_client.get(versions_url(persona) + "?page_size=2").json()

    assert body["count"] == 4
    assert [row["version"] for row in body["results"]] == [4, 3]
    assert body["next"] is not None


def test_it_shows_null_for_a_version_without_a_user(viewer_client, persona):
    services.persona_update(persona=persona, actor=None, content="by a script")

    newest = viewer_client.get(versions_url(persona)).json()["results"][0]

    assert newest["history_user"] is None
    assert newest["change_reason"] is None


def test_it_reads_one_version(viewer_client, persona, editor):
    services.persona_update(persona=persona, actor=editor, content="second")

    body = viewer_client.get(versions_url(persona, "1/")).json()

    assert body["version"] == 1
    assert body["content"] == "line one\nline two\n"
    assert body["name"] == "Reviewer"


@pytest.mark.parametrize("version", ["2", "0", "99999999999999999999999"])
def test_it_answers_an_absent_version_with_not_found(viewer_client, persona, version):
    response = viewer_client.get(versions_url(persona, f"{version}/"))

    assert_error(response, 404)


def test_it_answers_a_non_integer_version_with_not_found(viewer_client, persona):
    assert_error(viewer_client.get(versions_url(persona, "abc/")), 404, "not_found")


def test_it_does_not_show_another_personas_version(viewer_client, persona, editor):
    other = PersonaFactory(name="Other")
    services.persona_update(persona=other, actor=editor, content="other v2")

    response = viewer_client.get(versions_url(persona, "2/"))

    assert_error(response, 404, "version_not_found")


@pytest.mark.parametrize("persona_id", ["999", "99999999999999999999999"])
def test_it_answers_versions_of_a_missing_persona_with_not_found(viewer_client, persona_id):
    assert_error(viewer_client.get(f"/api/personas/{persona_id}/versions/"), 404, "not_found")
