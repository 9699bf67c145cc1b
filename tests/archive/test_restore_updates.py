import pytest

from apps.agents.models import Agent
from apps.archive.services import archive_build, archive_restore
from apps.conversations.models import Conversation
from apps.personas import services as persona_services
from apps.personas.models import Persona
from apps.screenplays import services as screenplay_services
from apps.screenplays.models import Screenplay
from tests.archive.conftest import minimal_archive, version_numbers
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


def test_an_agent_changed_since_the_backup_is_put_back_and_counted_updated(team, staff):
    archive = archive_build()
    Agent.objects.filter(slug="reviewer").update(tools=[], max_steps=99, persona=None)

    report = archive_restore(archive=archive, actor=staff)

    reviewer = Agent.objects.get(slug="reviewer")
    assert (reviewer.tools, reviewer.max_steps, reviewer.persona.name) == (
        ["web_fetch", "code_run"],
        7,
        "Voice",
    )
    assert report.updated["agents"] == 1
    assert report.skipped["agents"] == 1


def test_versions_missing_locally_are_added_without_duplicating_the_others(team, staff, editor):
    archive = archive_build()
    voice = Persona.objects.get(name="Voice")
    voice.history.filter(version=2).delete()

    report = archive_restore(archive=archive, actor=staff)

    assert report.updated["personas"] == 1
    assert version_numbers(archive_build())["Voice"] == [1, 2, 3]
    assert voice.history.count() == 3


def test_a_persona_edited_after_the_backup_gets_its_old_text_back_as_a_new_version(team, staff):
    archive = archive_build()
    voice = Persona.objects.get(name="Voice")
    persona_services.persona_update(persona=voice, actor=staff, content="edited later")

    report = archive_restore(archive=archive, actor=staff)

    voice.refresh_from_db()
    assert voice.content == "v2\n"
    newest = voice.history.order_by("-version").first()
    assert (newest.version, newest.content, newest.history_user) == (5, "v2\n", staff)
    assert newest.history_change_reason == "Restored from an archive"
    assert report.updated["personas"] == 1


def test_a_newer_backup_adds_the_versions_without_recording_another(team, staff, editor):
    voice = Persona.objects.get(name="Voice")
    persona_services.persona_update(persona=voice, actor=editor, content="v4")
    newer = archive_build()
    voice.history.filter(version=4).delete()
    Persona.objects.filter(pk=voice.pk).update(content="v2\n")

    archive_restore(archive=newer, actor=staff)

    voice.refresh_from_db()
    assert voice.content == "v4"
    assert version_numbers(archive_build())["Voice"] == [1, 2, 3, 4]


def test_a_version_number_present_locally_keeps_its_local_text(team, staff):
    archive = archive_build()
    voice = Persona.objects.get(name="Voice")
    voice.history.filter(version=1).update(content="local text")

    report = archive_restore(archive=archive, actor=staff)

    assert voice.history.get(version=1).content == "local text"
    assert report.skipped["personas"] == 3


def test_an_agent_may_name_a_persona_that_only_the_database_has(db, staff):
    Persona.objects.create(name="Local voice")
    entry = {
        "slug": "newcomer",
        "name": "Newcomer",
        "description": "Joins with a local persona.",
        "model": "gpt-4o-mini",
        "persona": "Local voice",
    }

    archive_restore(archive=minimal_archive(agents=[entry]), actor=staff)

    assert Agent.objects.get(slug="newcomer").persona.name == "Local voice"


def test_a_persona_without_history_is_recorded_as_one_version_by_the_restorer(db, staff):
    archive = minimal_archive(personas=[{"name": "Fresh", "content": "Hello"}])

    archive_restore(archive=archive, actor=staff)

    version = Persona.objects.get(name="Fresh").history.get()
    assert (version.version, version.history_user, version.history_type) == (1, staff, "+")
    assert version.history_change_reason == "Restored from an archive"


def test_a_screenplay_deleted_in_the_archive_is_soft_deleted_with_its_conversations(team, staff):
    archive = archive_build()
    guide = Screenplay.objects.get(name="Guide")
    talk = ConversationFactory(screenplay=guide)
    entry = next(s for s in archive["screenplays"] if s["name"] == "Guide")
    entry.update(is_deleted=True, deleted_at="2025-01-02T03:04:05+00:00", deletion_reason="old")

    report = archive_restore(archive=archive, actor=staff)

    guide = Screenplay.all_objects.get(pk=guide.pk)
    assert (guide.is_deleted, guide.deletion_reason) == (True, "old")
    assert guide.deleted_at.isoformat() == "2025-01-02T03:04:05+00:00"
    assert Conversation.all_objects.get(pk=talk.pk).is_deleted is True
    assert report.updated["screenplays"] == 1


def test_a_screenplay_alive_in_the_archive_is_restored_with_what_its_delete_took(team, staff):
    guide = Screenplay.objects.get(name="Guide")
    talk = ConversationFactory(screenplay=guide)
    archive = archive_build()
    screenplay_services.screenplay_soft_delete(screenplay=guide)

    report = archive_restore(archive=archive, actor=staff)

    assert Screenplay.objects.filter(pk=guide.pk).exists()
    assert Conversation.objects.filter(pk=talk.pk).exists()
    assert report.updated["screenplays"] == 1


def test_changed_screenplay_content_is_put_back_with_its_hash(team, staff):
    archive = archive_build()
    guide = Screenplay.objects.get(name="Guide")
    screenplay_services.screenplay_update(screenplay=guide, data={"content": "# New\n\nText.\n"})

    archive_restore(archive=archive, actor=staff)

    guide.refresh_from_db()
    assert guide.content == "# Guide\n\nSecond.\n"
    assert guide.version == 2
    assert guide.content_hash == screenplay_services.content_hash(guide.content)


def test_a_screenplay_entry_without_a_version_counts_up_on_new_content(team, staff):
    guide = Screenplay.objects.get(name="Guide")
    entry = {"uid": str(guide.uid), "name": "Guide", "content": "# Guide\n\nThird.\n"}

    archive_restore(archive=minimal_archive(screenplays=[entry]), actor=staff)

    guide.refresh_from_db()
    assert (guide.version, guide.content) == (3, "# Guide\n\nThird.\n")
