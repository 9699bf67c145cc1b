from __future__ import annotations

import pytest

from apps.personas import services
from tests.factories import PersonaFactory
from tests.personas.conftest import assert_error, versions_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def edited(persona, other_user):
    services.persona_update(
        persona=persona,
        actor=other_user,
        content="line one\nline 2\nline three\n",
        change_reason="Rework",
    )
    return persona


def test_it_compares_two_versions_line_by_line(viewer_client, edited):
    response = viewer_client.post(
        versions_url(edited, "compare/"), {"version1": 1, "version2": 2}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    headers = [d["content"] for d in body["differences"] if d["type"] == "header"]
    assert headers[0].startswith("--- version 1")
    assert "by editor" in headers[0]
    assert headers[1].startswith("+++ version 2")
    assert "by other (Rework)" in headers[1]
    lines = [(d["type"], d["content"]) for d in body["differences"] if d["type"] != "header"]
    assert lines == [
        ("unchanged", "line one"),
        ("removed", "line two"),
        ("added", "line 2"),
        ("added", "line three"),
    ]
    assert body["summary"] == {
        "added": 2,
        "removed": 1,
        "unchanged": 1,
        "change_percentage": 75.0,
    }


def test_it_reports_no_change_for_the_same_version(viewer_client, edited):
    body = viewer_client.post(
        versions_url(edited, "compare/"), {"version1": 2, "version2": 2}, format="json"
    ).json()

    assert body["summary"]["change_percentage"] == 0.0
    assert body["summary"]["unchanged"] == 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"version1": 1}, "version2"),
        ({}, "version1"),
        ({"version1": "one", "version2": 2}, "version1"),
        ({"version1": 1.5, "version2": 2}, "version1"),
        ({"version1": 0, "version2": 2}, "version1"),
        ({"version1": 1, "version2": -3}, "version2"),
        ({"version1": 1, "version2": 10**30}, "version2"),
    ],
)
def test_it_rejects_missing_or_bad_version_numbers(viewer_client, edited, payload, field):
    response = viewer_client.post(versions_url(edited, "compare/"), payload, format="json")

    error = assert_error(response, 400, "validation_error")
    assert field in error["details"]


def test_it_answers_an_absent_version_with_not_found(viewer_client, edited):
    response = viewer_client.post(
        versions_url(edited, "compare/"), {"version1": 1, "version2": 9}, format="json"
    )

    error = assert_error(response, 404, "version_not_found")
    assert error["details"] == {"version": 9}


def test_it_does_not_compare_with_another_personas_version(viewer_client, persona, editor):
    other = PersonaFactory(name="Other")
    services.persona_update(persona=other, actor=editor, content="x")

    response = viewer_client.post(
        versions_url(persona, "compare/"), {"version1": 1, "version2": 2}, format="json"
    )

    assert_error(response, 404, "version_not_found")
