from __future__ import annotations

import pytest

from apps.personas import services
from tests.factories import PersonaFactory
from tests.personas.conftest import assert_error, versions_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def rewritten(persona, editor):
    services.persona_update(
        persona=persona, actor=editor, name="Renamed", content="rewritten", metadata={"v": 2}
    )
    return persona


def test_it_restores_an_old_version_as_a_new_version(editor_client, rewritten, editor):
    response = editor_client.post(
        versions_url(rewritten, "restore/"),
        {"version": 1, "change_reason": "Back to basics"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 3
    assert body["name"] == "Reviewer"
    assert body["content"] == "line one\nline two\n"
    assert body["metadata"] == {"tone": "friendly"}
    versions = list(rewritten.history.order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3]
    assert versions[1].content == "rewritten", "history is never rewritten"
    assert (versions[2].history_user, versions[2].history_change_reason) == (
        editor,
        "Back to basics",
    )


def test_it_explains_a_restore_without_a_reason(editor_client, rewritten):
    editor_client.post(versions_url(rewritten, "restore/"), {"version": 1}, format="json")

    assert rewritten.history.order_by("-version").first().history_change_reason == (
        "Restored version 1"
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "version"), ({"version": "x"}, "version"), ({"version": 0}, "version")],
)
def test_it_rejects_bad_restore_requests(editor_client, rewritten, payload, field):
    response = editor_client.post(versions_url(rewritten, "restore/"), payload, format="json")

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]
    assert rewritten.history.count() == 2


def test_it_answers_restoring_an_absent_version_with_not_found(editor_client, rewritten):
    response = editor_client.post(
        versions_url(rewritten, "restore/"), {"version": 7}, format="json"
    )

    assert_error(response, 404, "version_not_found")


def test_it_answers_a_restore_onto_a_taken_name_with_a_conflict(editor_client, rewritten):
    PersonaFactory(name="Reviewer")

    response = editor_client.post(
        versions_url(rewritten, "restore/"), {"version": 1}, format="json"
    )

    assert_error(response, 409, "duplicate_persona_name")
    assert rewritten.history.count() == 2
