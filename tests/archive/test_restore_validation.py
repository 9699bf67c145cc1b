import pytest

from apps.agents.models import Agent
from apps.archive.exceptions import ArchiveConflict, InvalidArchive
from apps.archive.services import archive_build, archive_restore
from apps.personas.models import Persona
from apps.screenplays import services as screenplay_services
from apps.screenplays.models import Screenplay
from tests.archive.conftest import minimal_archive

pytestmark = pytest.mark.django_db

AGENT = {
    "slug": "helper",
    "name": "Helper",
    "description": "Helps with all sorts of things.",
    "model": "gpt-4o-mini",
}
SCREENPLAY_UID = "0f8d2b1e-1a2b-4c3d-8e9f-001122334455"


def restore_fails(archive, staff) -> InvalidArchive:
    with pytest.raises(InvalidArchive) as raised:
        archive_restore(archive=archive, actor=staff)
    return raised.value


@pytest.mark.parametrize(
    ("archive", "message"),
    [
        ([], "An archive is a JSON object, not list"),
        ("backup", "An archive is a JSON object, not str"),
        ({"format": "zip", "version": 1}, "Not a Conductor archive: format is 'zip'"),
        ({"version": 1}, "Not a Conductor archive: format is None"),
        ({"format": "conductor-archive", "version": 2}, "Unsupported archive version 2"),
        ({"format": "conductor-archive", "version": "1"}, "Unsupported archive version '1'"),
    ],
)
def test_it_refuses_what_is_not_a_version_1_archive(db, staff, archive, message):
    assert restore_fails(archive, staff).message.startswith(message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"agents": None}, "agents: None is not of type 'array'"),
        ({"agents": [{**AGENT, "slug": 3}]}, "agents[0].slug: 3 is not of type 'string'"),
        ({"agents": [{"slug": "x"}]}, "agents[0]: 'name' is a required property"),
        ({"agents": [{**AGENT, "colour": "red"}]}, "Additional properties are not allowed"),
        ({"agents": [{**AGENT, "tools": "web_fetch"}]}, "agents[0].tools: 'web_fetch' is not"),
        ({"personas": [{"name": ""}]}, "personas[0].name: '' should be non-empty"),
        (
            {"personas": [{"name": "P", "created_at": "yesterday"}]},
            "personas[0].created_at: 'yesterday' is not a 'date-time'",
        ),
        (
            {"personas": [{"name": "P", "created_at": "2025-01-01T10:00:00"}]},
            "personas[0].created_at: '2025-01-01T10:00:00' is not a 'date-time'",
        ),
        (
            {"screenplays": [{"uid": "not-a-uuid", "name": "S", "content": "# S"}]},
            "screenplays[0].uid: 'not-a-uuid' is not a 'uuid'",
        ),
        (
            {"personas": [{"name": "P", "history": [{"version": 0}]}]},
            "personas[0].history[0]",
        ),
        (
            {
                "screenplays": [
                    {"uid": SCREENPLAY_UID, "name": "S", "content": "", "version": 2**31}
                ]
            },
            "screenplays[0].version: 2147483648 is greater than the maximum of 2147483647",
        ),
        (
            {"personas": [{"name": "P", "history": [{"change_reason": "x" * 256}]}]},
            "personas[0].history[0].change_reason: 'xxx",
        ),
    ],
)
def test_it_names_the_path_of_every_shape_problem(db, staff, change, message):
    archive = {**minimal_archive(), **change}

    error = restore_fails(archive, staff)

    assert message in error.message
    assert error.message.startswith("The archive is invalid: ")
    assert all({"path", "message"} <= set(problem) for problem in error.details)


def test_it_lists_many_problems_but_says_how_many_it_left_out(db, staff):
    archive = minimal_archive(agents=[{"slug": n} for n in range(12)])

    error = restore_fails(archive, staff)

    assert "(and " in error.message
    assert len(error.details) > 10


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ({"agents": [AGENT, AGENT]}, "2 entries have the slug 'helper'"),
        ({"personas": [{"name": "P"}, {"name": "P"}]}, "2 entries have the name 'P'"),
        (
            {
                "screenplays": [
                    {"uid": SCREENPLAY_UID, "name": "A", "content": "# A"},
                    {"uid": SCREENPLAY_UID.upper(), "name": "B", "content": "# B"},
                ]
            },
            "2 entries have the uid",
        ),
    ],
)
def test_it_refuses_two_entries_with_one_key(db, staff, lists, message):
    assert message in restore_fails(minimal_archive(**lists), staff).message


def test_it_refuses_a_version_number_given_twice(db, staff):
    version = {
        "version": 1,
        "history_date": "2025-01-01T10:00:00+00:00",
        "history_type": "+",
        "name": "P",
        "content": "",
        "metadata": {},
    }
    archive = minimal_archive(personas=[{"name": "P", "history": [version, version]}])

    error = restore_fails(archive, staff)

    assert "personas[0].history: version 1 appears more than once" in error.message


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        ({"description": "short"}, "agents[0] ('helper'): description: Ensure this value has at"),
        ({"slug": "no spaces"}, "agents[0] ('no spaces'): slug: Use letters, digits"),
        ({"model": "not a model!"}, "model: Not a litellm model string."),
        ({"tools": ["Web Fetch"]}, "tools: Tool names are 1 to 64 letters"),
        ({"max_steps": 0}, "max_steps: Ensure this value is greater than or equal to 1."),
        ({"persona": "Nobody"}, "there is no persona named 'Nobody' in the archive or the"),
    ],
)
def test_it_applies_the_models_rules_and_names_the_entry(db, staff, agent, message):
    error = restore_fails(minimal_archive(agents=[{**AGENT, **agent}]), staff)

    assert message in error.message
    assert not Agent.objects.exists()


def test_a_bad_entry_late_in_the_archive_leaves_nothing_behind(db, staff):
    archive = minimal_archive(
        personas=[{"name": "Written first", "content": "hi"}],
        agents=[{**AGENT, "description": "short"}],
    )

    restore_fails(archive, staff)

    assert not Persona.objects.exists()
    assert not Persona.history.exists()


def test_a_persona_version_breaking_the_rules_is_named(db, staff):
    version = {
        "version": 1,
        "history_date": "2025-01-01T10:00:00+00:00",
        "history_type": "+",
        "name": "P",
        "content": "bell \x07",
        "metadata": {},
    }
    archive = minimal_archive(personas=[{"name": "P", "history": [version]}])

    error = restore_fails(archive, staff)

    assert "personas[0] ('P').history[0]: content:" in error.message


def test_a_screenplay_with_a_forbidden_path_is_refused(db, staff):
    entry = {"uid": SCREENPLAY_UID, "name": "S", "content": "# S", "file_path": "../x.md"}

    error = restore_fails(minimal_archive(screenplays=[entry]), staff)

    assert "screenplays[0] ('" in error.message
    assert "file_path: Path must not contain '..'." in error.message


def test_an_active_screenplay_may_not_take_another_ones_file(db, staff):
    taken = screenplay_services.screenplay_create(
        name="Owner", content="# Owner", file_path="docs/a.md"
    )
    entry = {"uid": SCREENPLAY_UID, "name": "S", "content": "# S", "file_path": "docs/a.md"}

    with pytest.raises(ArchiveConflict) as raised:
        archive_restore(archive=minimal_archive(screenplays=[entry]), actor=staff)

    assert f"the active screenplay 'Owner' (id {taken.pk}) already uses" in raised.value.message
    assert Screenplay.all_objects.count() == 1


def test_a_deleted_screenplay_may_share_a_file_with_an_active_one(db, staff):
    screenplay_services.screenplay_create(name="Owner", content="# Owner", file_path="docs/a.md")
    entry = {
        "uid": SCREENPLAY_UID,
        "name": "Old",
        "content": "# Old",
        "file_path": "docs/a.md",
        "is_deleted": True,
    }

    report = archive_restore(archive=minimal_archive(screenplays=[entry]), actor=staff)

    assert report.created["screenplays"] == 1


def test_an_archive_built_here_always_passes_validation(team, staff):
    archive_restore(archive=archive_build(), actor=staff)
