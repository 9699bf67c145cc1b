from __future__ import annotations

import json

import pytest

from apps.personas import services
from apps.personas.models import Persona
from tests.factories import PersonaFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/personas/persona/"


def change_form(persona: Persona, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": persona.name,
        "content": persona.content,
        "metadata": json.dumps(persona.metadata),
        "change_reason": "",
        "_save": "Save",
    }
    return {**data, **overrides}


def test_an_admin_edit_records_the_editor_and_the_reason(editor_admin, persona, editor):
    response = editor_admin.post(
        f"{CHANGELIST}{persona.pk}/change/",
        change_form(persona, content="edited\r\nin admin", change_reason="Admin polish"),
    )

    assert response.status_code == 302, response.content
    persona.refresh_from_db()
    assert persona.content == "edited\nin admin"
    latest = persona.history.order_by("-version").first()
    assert (latest.version, latest.history_user, latest.history_change_reason) == (
        2,
        editor,
        "Admin polish",
    )


def test_an_admin_add_starts_the_history(editor_admin, editor):
    response = editor_admin.post(
        f"{CHANGELIST}add/",
        {"name": "New", "content": "hi", "metadata": "{}", "change_reason": "First draft"},
    )

    assert response.status_code == 302, response.content
    record = Persona.objects.get(name="New").history.get()
    assert (record.version, record.history_user, record.history_change_reason) == (
        1,
        editor,
        "First draft",
    )


def test_the_admin_form_rejects_control_characters(editor_admin, persona):
    response = editor_admin.post(
        f"{CHANGELIST}{persona.pk}/change/", change_form(persona, content="bad \x07")
    )

    assert response.status_code == 200
    assert b"Control characters are not allowed" in response.content
    assert persona.history.count() == 1


def test_the_change_page_shows_a_markdown_preview_and_version_links(editor_admin, persona, editor):
    services.persona_update(persona=persona, actor=editor, content="# Title\n\n<script>x</script>")

    response = editor_admin.get(f"{CHANGELIST}{persona.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Title</h1>" in html
    assert "<script>x</script>" not in html
    assert f"{CHANGELIST}{persona.pk}/diff/" in html
    assert f"{CHANGELIST}{persona.pk}/history/" in html
    assert 'name="change_reason"' in html


def test_the_history_view_lists_every_version_with_user_and_reason(
    editor_admin, persona, other_user
):
    services.persona_update(persona=persona, actor=other_user, content="v2", change_reason="Why")

    response = editor_admin.get(f"{CHANGELIST}{persona.pk}/history/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Why" in html
    assert "other" in html
    assert f"{CHANGELIST}{persona.pk}/diff/?version1=1&amp;version2=2" in html


def test_the_diff_view_compares_two_versions(editor_admin, persona, editor):
    services.persona_update(persona=persona, actor=editor, content="line one\nline 2\n")

    response = editor_admin.get(f"{CHANGELIST}{persona.pk}/diff/?version1=1&version2=2")

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 added, 1 removed, 1 unchanged" in html
    assert '<tr class="removed">' in html
    assert "line two" in html
    assert "line 2" in html


def test_the_diff_view_defaults_to_the_latest_change(editor_admin, persona, editor):
    services.persona_update(persona=persona, actor=editor, content="line one\n")

    response = editor_admin.get(f"{CHANGELIST}{persona.pk}/diff/")

    assert response.status_code == 200
    assert "0 added, 1 removed, 1 unchanged" in response.content.decode()


def test_the_diff_view_explains_an_unknown_version(editor_admin, persona):
    response = editor_admin.get(f"{CHANGELIST}{persona.pk}/diff/?version1=1&version2=9")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_the_diff_view_of_a_missing_persona_is_not_found(editor_admin):
    assert editor_admin.get(f"{CHANGELIST}999/diff/").status_code == 404


def test_reverting_in_the_admin_creates_a_new_version_by_the_editor(
    editor_admin, persona, editor, other_user
):
    services.persona_update(persona=persona, actor=other_user, content="vandalised")
    first = persona.history.get(version=1)

    response = editor_admin.post(
        f"{CHANGELIST}{persona.pk}/history/{first.history_id}/",
        change_form(first.instance),
    )

    assert response.status_code == 302, response.content
    persona.refresh_from_db()
    assert persona.content == "line one\nline two\n"
    latest = persona.history.order_by("-version").first()
    assert (latest.version, latest.history_user, latest.history_change_reason) == (
        3,
        editor,
        "Reverted to version 1",
    )
    assert persona.history.get(version=2).content == "vandalised"


def test_the_duplicate_action_copies_with_its_own_history(editor_admin, persona, editor):
    response = editor_admin.post(
        CHANGELIST, {"action": "duplicate", "_selected_action": [persona.pk]}
    )

    assert response.status_code == 302
    copy = Persona.objects.get(name="Reviewer (copy)")
    assert copy.content == persona.content
    record = copy.history.get()
    assert (record.version, record.history_user) == (1, editor)
    assert record.history_change_reason == "Duplicated from 'Reviewer' in the admin"


def test_deleting_in_the_admin_records_the_editor(editor_admin, persona, editor):
    pk = persona.pk

    response = editor_admin.post(f"{CHANGELIST}{pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    deletion = Persona.history.model.objects.get(id=pk, history_type="-")
    assert (deletion.version, deletion.history_user) == (2, editor)


def test_the_changelist_shows_version_count_and_last_editor(editor_admin, persona, other_user):
    services.persona_update(persona=persona, actor=other_user, content="v2")

    response = editor_admin.get(CHANGELIST)

    row = response.context["cl"].result_list[0]
    assert (row.version_count, row.last_changed_by) == (2, "other")
    assert b'<td class="field-last_changed_by">other</td>' in response.content


def test_the_changelist_searches_content(editor_admin):
    PersonaFactory(name="Pirate", content="Arr")
    PersonaFactory(name="Poet", content="Verse")

    response = editor_admin.get(CHANGELIST + "?q=verse")

    assert [p.name for p in response.context["cl"].result_list] == ["Poet"]


def test_the_changelist_costs_the_same_queries_for_1_or_50_personas(editor_admin):
    assert_constant_queries(
        lambda: editor_admin.get(CHANGELIST),
        lambda count: PersonaFactory.create_batch(count),
    )
