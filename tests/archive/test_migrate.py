import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

from apps.archive.exceptions import DatabaseNotReady, UnknownDatabase
from apps.archive.services import archive_build, archive_migrate
from apps.personas.models import Persona
from conductor_site.settings import _extra_databases
from tests.archive.conftest import (
    SECOND_DATABASE,
    version_numbers,
    without_created_at,
)

both_databases = pytest.mark.django_db(databases=["default", SECOND_DATABASE])


def same_users_in(alias: str) -> None:
    for name in ("persona-author", "editor", "staff"):
        get_user_model().objects.db_manager(alias).create_user(username=name)


@both_databases
def test_it_copies_everything_into_another_database(team, staff, second_database):
    same_users_in(second_database)

    result = archive_migrate(from_alias="default", to_alias=second_database, actor=staff)

    assert result == {
        "from_alias": "default",
        "to_alias": second_database,
        "created": {"agents": 2, "personas": 3, "screenplays": 2},
        "updated": {"agents": 0, "personas": 0, "screenplays": 0},
        "skipped": {"agents": 0, "personas": 0, "screenplays": 0},
    }
    copy = archive_build(using=second_database)
    assert without_created_at(copy) == without_created_at(archive_build())
    assert Persona.history.using(second_database).count() == 6


@both_databases
def test_the_migrated_target_has_its_own_editors_group(second_database):
    from django.contrib.auth.models import Group

    editors = Group.objects.using(second_database).get(name="Editors")

    assert editors.permissions.filter(codename="add_agent").exists()


@both_databases
def test_copying_twice_skips_everything_the_second_time(team, staff, second_database):
    archive_migrate(from_alias="default", to_alias=second_database, actor=staff)

    again = archive_migrate(from_alias="default", to_alias=second_database, actor=staff)

    assert again["skipped"] == {"agents": 2, "personas": 3, "screenplays": 2}
    assert Persona.history.using(second_database).count() == 6


@both_databases
def test_authors_unknown_to_the_target_are_kept_as_nobody(team, staff, second_database):
    archive_migrate(from_alias="default", to_alias=second_database, actor=staff)

    copy = archive_build(using=second_database)
    assert version_numbers(copy) == version_numbers(archive_build())
    users = {v["user"] for p in copy["personas"] for v in p["history"]}
    assert users == {None}


@both_databases
def test_it_copies_back_the_other_way(team, staff, second_database):
    from apps.personas.services import persona_update

    archive_migrate(from_alias="default", to_alias=second_database, actor=staff)
    changed = Persona.objects.using(second_database).get(name="Plain")
    changed.content = "changed in the copy"
    changed.save(using=second_database)

    back = archive_migrate(from_alias=second_database, to_alias="default", actor=staff)

    assert back["updated"]["personas"] == 1
    plain = Persona.objects.get(name="Plain")
    assert plain.content == "changed in the copy"
    assert plain.history.order_by("-version").first().history_user == staff
    persona_update(persona=plain, actor=staff, content="and again")
    assert plain.history.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_alias", "to_alias", "message"),
    [
        ("default", "nowhere", "There is no database alias 'nowhere'; configured: "),
        ("elsewhere", "default", "There is no database alias 'elsewhere'"),
        ("default", "default", "Copying 'default' onto itself changes nothing"),
        ("default", "sql_tool", "'sql_tool' is the read-only alias of the sql_query tool"),
    ],
)
def test_it_refuses_unknown_equal_or_read_only_aliases(staff, from_alias, to_alias, message):
    with pytest.raises(UnknownDatabase) as raised:
        archive_migrate(from_alias=from_alias, to_alias=to_alias, actor=staff)

    assert raised.value.message.startswith(message)


@pytest.mark.django_db(databases=["default", "unmigrated"])
def test_a_database_that_was_never_migrated_is_reported_not_ready(staff, unmigrated_database):
    with pytest.raises(DatabaseNotReady) as raised:
        archive_migrate(from_alias="default", to_alias=unmigrated_database, actor=staff)

    message = raised.value.message
    assert message.startswith("The database 'unmigrated' cannot be used (no such table")
    assert "manage.py migrate --database unmigrated" in message


def test_extra_databases_are_alias_url_pairs():
    databases = _extra_databases(
        ["archive=sqlite:////tmp/a.db", "pg=postgresql://u:p@db:5432/c?sslmode=require"],
        {"default", "sql_tool"},
    )

    assert databases["archive"]["ENGINE"] == "django.db.backends.sqlite3"
    assert databases["pg"]["NAME"] == "c"
    assert databases["pg"]["OPTIONS"]["pool"]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["no-equals-sign"], "CONDUCTOR_EXTRA_DATABASES entries are alias=url"),
        (["bad alias=sqlite:///x.db"], "CONDUCTOR_EXTRA_DATABASES entries are alias=url"),
        (["a="], "CONDUCTOR_EXTRA_DATABASES entries are alias=url"),
        (["default=sqlite:///x.db"], "cannot redefine the 'default' database alias"),
        (["a=sqlite:///x.db", "a=sqlite:///y.db"], "names the database alias 'a' twice"),
        (["a=mysql://root@db/x"], r"CONDUCTOR_EXTRA_DATABASES \(a\) must be a postgresql://"),
    ],
)
def test_a_bad_extra_database_names_the_variable(entries, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _extra_databases(entries, {"default", "sql_tool"})
