"""The same persona edited through every door: its history is complete and usable."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from apps.personas import services
from tests.personas.conftest import versions_url

pytestmark = pytest.mark.django_db


def with_change_permission(user):
    user.user_permissions.add(Permission.objects.get(codename="change_persona"))
    return user


def edit_in_admin(client, persona) -> None:
    response = client.post(
        f"/admin/personas/persona/{persona.pk}/change/",
        {
            "name": persona.name,
            "content": "admin content\n",
            "metadata": json.dumps(persona.metadata),
            "change_reason": "Edited in admin",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content


def edit_through_api(persona, user) -> None:
    client = APIClient()
    client.force_authenticate(user)
    response = client.patch(
        f"/api/personas/{persona.pk}/",
        {"content": "api content\n", "change_reason": "Edited through API"},
        format="json",
    )
    assert response.status_code == 200, response.content


def edit_in_bulk(persona, actor) -> None:
    persona.refresh_from_db()
    persona.content = "bulk content\n"
    services.persona_bulk_update(
        personas=[persona], fields=["content"], actor=actor, change_reason="Bulk sweep"
    )


def test_admin_api_and_bulk_edits_all_appear_in_the_history_and_can_be_restored(
    editor_admin, persona, other_user, staff, staff_client
):
    edit_in_admin(editor_admin, persona)
    edit_through_api(persona, with_change_permission(other_user))
    edit_in_bulk(persona, staff)

    listed = staff_client.get(versions_url(persona)).json()
    assert listed["count"] == 4
    assert [
        (row["version"], row["history_user"], row["change_reason"], row["content"])
        for row in listed["results"]
    ] == [
        (4, "staff", "Bulk sweep", "bulk content\n"),
        (3, "other", "Edited through API", "api content\n"),
        (2, "editor", "Edited in admin", "admin content\n"),
        (1, "editor", "Created by a factory", "line one\nline two\n"),
    ]

    diff = staff_client.post(
        versions_url(persona, "compare/"), {"version1": 2, "version2": 3}, format="json"
    ).json()
    changed = [(d["type"], d["content"]) for d in diff["differences"] if d["type"] != "header"]
    assert changed == [("removed", "admin content"), ("added", "api content")]
    assert diff["summary"]["change_percentage"] == 100.0

    restored = staff_client.post(
        versions_url(persona, "restore/"),
        {"version": 2, "change_reason": "Admin wording was best"},
        format="json",
    ).json()
    assert (restored["version"], restored["content"]) == (5, "admin content\n")
    newest = staff_client.get(versions_url(persona)).json()["results"][0]
    assert (newest["version"], newest["history_user"], newest["change_reason"]) == (
        5,
        "staff",
        "Admin wording was best",
    )
    assert newest["content"] == "admin content\n"
