import json

import pytest

from apps.archive.services import archive_build, archive_restore
from apps.personas.models import Persona
from apps.screenplays.models import Screenplay
from tests.archive.conftest import version_numbers, wipe, without_created_at

pytestmark = pytest.mark.django_db


def test_a_backup_wiped_and_restored_builds_the_same_archive(team, staff):
    before = json.loads(json.dumps(archive_build()))

    wipe()
    report = archive_restore(archive=before, actor=staff)
    after = archive_build()

    assert without_created_at(after) == without_created_at(before)
    assert report.as_dict() == {
        "created": {"agents": 2, "personas": 3, "screenplays": 2},
        "updated": {"agents": 0, "personas": 0, "screenplays": 0},
        "skipped": {"agents": 0, "personas": 0, "screenplays": 0},
    }


def test_persona_history_keeps_its_versions_authors_and_reasons(team, staff):
    before = archive_build()

    wipe()
    archive_restore(archive=before, actor=staff)

    assert version_numbers(archive_build()) == {"Plain": [1], "Pruned": [3, 4], "Voice": [1, 2, 3]}
    voice = Persona.objects.get(name="Voice")
    versions = list(voice.history.order_by("version"))
    assert [v.history_user.username for v in versions] == ["persona-author", "editor", "staff"]
    assert [v.history_change_reason for v in versions] == ["first", "clearer", None]
    assert voice.history.count() == 3
    assert voice.content == "v2\n"
    assert voice.metadata == {"tone": "dry", "n": [1, 2]}


def test_the_next_change_after_a_restore_continues_the_numbering(team, staff, editor):
    from apps.personas.services import persona_update

    before = archive_build()
    wipe()
    archive_restore(archive=before, actor=staff)

    persona_update(persona=Persona.objects.get(name="Pruned"), actor=editor, content="e")

    assert version_numbers(archive_build())["Pruned"] == [3, 4, 5]


def test_restoring_the_same_archive_twice_skips_everything_the_second_time(team, staff):
    archive = archive_build()
    wipe()
    archive_restore(archive=archive, actor=staff)

    again = archive_restore(archive=archive, actor=staff)

    assert again.created == {"agents": 0, "personas": 0, "screenplays": 0}
    assert again.updated == {"agents": 0, "personas": 0, "screenplays": 0}
    assert again.skipped == {"agents": 2, "personas": 3, "screenplays": 2}
    assert Persona.history.count() == 1 + 2 + 3


def test_restoring_onto_the_database_it_came_from_changes_nothing(team, staff):
    archive = archive_build()

    report = archive_restore(archive=archive, actor=staff)

    assert report.skipped == {"agents": 2, "personas": 3, "screenplays": 2}
    assert without_created_at(archive_build()) == without_created_at(archive)


def test_a_soft_deleted_screenplay_comes_back_deleted(team, staff):
    archive = archive_build()
    wipe()

    archive_restore(archive=archive, actor=staff)

    gone = Screenplay.all_objects.get(name="Gone")
    assert gone.is_deleted is True
    assert gone.deletion_reason == ""
    assert not Screenplay.objects.filter(name="Gone").exists()
    guide = Screenplay.objects.get(name="Guide")
    assert (guide.version, guide.file_path) == (2, "docs/guide.md")
    assert guide.last_used_at is not None


def test_the_archive_names_personas_by_name_and_holds_no_database_ids(team):
    archive = archive_build()

    reviewer = next(agent for agent in archive["agents"] if agent["slug"] == "reviewer")
    assert reviewer["persona"] == "Voice"
    assert reviewer["mcp_configs"] == {"servers": {"fs": {"command": "mcp-fs", "args": ["/srv"]}}}
    flat = json.dumps(archive)
    assert '"id"' not in flat
    assert '"pk"' not in flat
    assert all("uid" in screenplay for screenplay in archive["screenplays"])


def test_building_an_archive_takes_the_same_few_queries_however_much_there_is(
    team, django_assert_max_num_queries
):
    from tests.factories import AgentFactory, PersonaFactory

    for _ in range(5):
        AgentFactory(persona=PersonaFactory())

    with django_assert_max_num_queries(4):
        archive = archive_build()

    assert len(archive["agents"]) == 7


def test_the_archive_app_is_installed():
    from django.apps import apps

    assert apps.is_installed("apps.archive")
