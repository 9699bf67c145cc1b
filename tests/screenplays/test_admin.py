from __future__ import annotations

import pytest
from django.test import Client

from apps.screenplays.models import Screenplay
from apps.screenplays.paths import file_key_for_path
from tests.factories import ScreenplayFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/screenplays/screenplay/"
ADD = f"{CHANGELIST}add/"


@pytest.fixture
def editor_admin(editor) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def superuser_admin(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def form_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "From the admin",
        "description": "",
        "tags": '["ops"]',
        "content": "# Admin\n\nWritten in the admin.\n",
        "working_directory": "",
        "file_path": "",
        "import_path": "",
        "export_path": "",
    }
    data.update(overrides)
    return data


def run_action(client: Client, action: str, *screenplays: Screenplay, **extra: str):
    data = {"action": action, "_selected_action": [s.pk for s in screenplays], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_the_changelist_shows_deleted_rows_and_filters_them(editor_admin):
    ScreenplayFactory(name="Alive one")
    ScreenplayFactory(name="Deleted one", deleted=True)

    everything = editor_admin.get(CHANGELIST)
    only_deleted = editor_admin.get(f"{CHANGELIST}?is_deleted__exact=1")

    assert everything.status_code == 200
    assert b"Alive one" in everything.content
    assert b"Deleted one" in everything.content
    assert b"Alive one" not in only_deleted.content
    assert b"Deleted one" in only_deleted.content


def test_the_changelist_filters_by_tag(editor_admin):
    ScreenplayFactory(name="Tagged", tags=["ops"])
    ScreenplayFactory(name="Untagged")

    response = editor_admin.get(f"{CHANGELIST}?tag=ops")

    assert b"Tagged" in response.content
    assert b"Untagged" not in response.content


def test_the_changelist_searches(editor_admin):
    ScreenplayFactory(name="Needle")
    ScreenplayFactory(name="Hay")

    response = editor_admin.get(f"{CHANGELIST}?q=needle")

    assert b"Needle" in response.content
    assert b"Hay</a>" not in response.content


def test_the_changelist_costs_constant_queries_from_1_to_50_rows(superuser_admin):
    assert_constant_queries(
        lambda: superuser_admin.get(CHANGELIST),
        lambda count: ScreenplayFactory.create_batch(count, tags=["a", "b"]),
    )


def test_the_change_form_shows_the_preview_and_the_validation_result(editor_admin):
    screenplay = ScreenplayFactory(
        content="# Title\n\n### Skipped\n\n**bold** <script>x</script>\n"
    )

    response = editor_admin.get(f"{CHANGELIST}{screenplay.pk}/change/")

    assert response.status_code == 200
    assert b"<strong>bold</strong>" in response.content
    assert b"<script>x</script>" not in response.content
    assert b"skipped_heading_level" in response.content


def test_adding_through_the_admin_uses_the_services(editor_admin):
    response = editor_admin.post(ADD, form_data(file_path="/docs//plan.md"))

    assert response.status_code == 302, response.content
    screenplay = Screenplay.objects.get()
    assert (screenplay.version, screenplay.tags, screenplay.file_path) == (
        1,
        ["ops"],
        "/docs/plan.md",
    )
    assert screenplay.file_key == file_key_for_path("/docs/plan.md")
    assert len(screenplay.content_hash) == 64


def test_content_with_warnings_needs_the_force_checkbox(editor_admin):
    content = "# Title\n\n### Skipped\n"

    refused = editor_admin.post(ADD, form_data(content=content))
    forced = editor_admin.post(ADD, form_data(content=content, force="on"))

    assert refused.status_code == 200
    assert b"skipped_heading_level" in refused.content
    assert forced.status_code == 302
    assert Screenplay.objects.get().content == content


def test_content_with_errors_is_refused_even_when_forced(editor_admin):
    response = editor_admin.post(ADD, form_data(content="# T\n\n```\n", force="on"))

    assert response.status_code == 200
    assert b"unclosed_code_fence" in response.content
    assert not Screenplay.all_objects.exists()


def test_a_duplicate_file_is_reported_on_the_form(editor_admin):
    ScreenplayFactory(name="Holder", file_path="/docs/plan.md")

    response = editor_admin.post(ADD, form_data(file_path="/docs/plan.md"))

    assert response.status_code == 200
    assert b"Holder" in response.content
    assert Screenplay.objects.count() == 1


def test_editing_the_content_in_the_admin_increments_the_version(editor_admin):
    screenplay = ScreenplayFactory()

    response = editor_admin.post(
        f"{CHANGELIST}{screenplay.pk}/change/", form_data(content="# Changed\n")
    )

    assert response.status_code == 302, response.content
    screenplay.refresh_from_db()
    assert (screenplay.content, screenplay.version) == ("# Changed\n", 2)


def test_editing_other_fields_in_the_admin_keeps_the_version(editor_admin):
    screenplay = ScreenplayFactory()

    editor_admin.post(
        f"{CHANGELIST}{screenplay.pk}/change/",
        form_data(name="New name", content=screenplay.content),
    )

    screenplay.refresh_from_db()
    assert (screenplay.name, screenplay.version) == ("New name", 1)


def test_a_relative_working_directory_is_a_form_error(editor_admin):
    response = editor_admin.post(ADD, form_data(working_directory="relative"))

    assert response.status_code == 200
    assert b"absolute path" in response.content
    assert not Screenplay.all_objects.exists()


def test_the_soft_delete_action_marks_rows_deleted(editor_admin):
    first, second = ScreenplayFactory.create_batch(2)

    run_action(editor_admin, "soft_delete_selected", first, second)

    assert Screenplay.objects.count() == 0
    assert Screenplay.all_objects.filter(is_deleted=True).count() == 2


def test_the_restore_action_brings_rows_back(editor_admin):
    screenplay = ScreenplayFactory(deleted=True)

    run_action(editor_admin, "restore_selected", screenplay)

    screenplay.refresh_from_db()
    assert screenplay.is_deleted is False


def test_the_restore_action_reports_a_conflict_and_keeps_the_row_deleted(editor_admin):
    deleted = ScreenplayFactory(deleted=True, file_path="/docs/plan.md")
    ScreenplayFactory(name="Newer", file_path="/docs/plan.md")

    response = run_action(editor_admin, "restore_selected", deleted)

    assert b"Newer" in response.content
    deleted.refresh_from_db()
    assert deleted.is_deleted is True


def test_the_mark_as_used_action_stamps_last_used_at(editor_admin):
    screenplay = ScreenplayFactory()

    run_action(editor_admin, "mark_as_used", screenplay)

    screenplay.refresh_from_db()
    assert screenplay.last_used_at is not None


def test_the_duplicate_action_copies_with_a_new_name_and_a_free_file(editor_admin):
    original = ScreenplayFactory(name="Plan", file_path="/docs/plan.md", tags=["a"])
    ScreenplayFactory(name="Squatter", file_path="/docs/plan-copy.md")

    run_action(editor_admin, "duplicate_selected", original)

    copy = Screenplay.objects.get(name="Plan (copy)")
    assert (copy.content, copy.tags, copy.version) == (original.content, ["a"], 1)
    assert copy.file_path == "/docs/plan-copy-2.md"
    assert copy.file_key not in {s.file_key for s in Screenplay.objects.exclude(pk=copy.pk)}


def test_a_superuser_can_hard_delete(superuser_admin):
    screenplay = ScreenplayFactory(deleted=True)
    listing = superuser_admin.get(CHANGELIST)
    assert b"Hard delete selected" in listing.content

    run_action(superuser_admin, "delete_selected", screenplay, post="yes")

    assert not Screenplay.all_objects.exists()


def test_an_editor_cannot_hard_delete(editor_admin):
    screenplay = ScreenplayFactory()

    listing = editor_admin.get(CHANGELIST)
    run_action(editor_admin, "delete_selected", screenplay, post="yes")
    delete_view = editor_admin.post(f"{CHANGELIST}{screenplay.pk}/delete/", {"post": "yes"})

    assert b'value="delete_selected"' not in listing.content
    assert b'value="soft_delete_selected"' in listing.content
    assert delete_view.status_code == 403
    assert Screenplay.objects.filter(pk=screenplay.pk).exists()


def test_a_viewer_cannot_open_the_admin(viewer):
    client = Client()
    client.force_login(viewer)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
