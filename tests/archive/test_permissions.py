import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import PermissionDenied

from apps.agents.models import Agent
from apps.archive.files import backup_dir
from apps.archive.services import (
    archive_build,
    archive_migrate,
    archive_restore,
    archive_restore_file,
    archive_write,
)
from tests.archive.conftest import minimal_archive, wipe
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVIL_AGENT = {
    "slug": "backdoor",
    "name": "Backdoor",
    "description": "Planted by someone without rights.",
    "model": "gpt-4o-mini",
}


@pytest.fixture(params=["viewer", "other_user", "anonymous", "nobody", "superuser_not_staff"])
def outsider(request):
    if request.param == "anonymous":
        return AnonymousUser()
    if request.param == "nobody":
        return None
    if request.param == "superuser_not_staff":
        return UserFactory(username="root-ish", is_superuser=True, is_staff=False)
    return request.getfixturevalue(request.param)


def test_only_staff_may_restore(outsider):
    with pytest.raises(PermissionDenied, match=r"Only staff may restore an archive\."):
        archive_restore(archive=minimal_archive(agents=[EVIL_AGENT]), actor=outsider)

    assert not Agent.objects.exists()


def test_a_non_staff_user_learns_nothing_about_a_malformed_archive(viewer):
    with pytest.raises(PermissionDenied):
        archive_restore(archive={"format": "something else"}, actor=viewer)


def test_only_staff_may_write_a_backup(outsider, team):
    with pytest.raises(PermissionDenied, match=r"Only staff may write a backup\."):
        archive_write(path="stolen.json", actor=outsider)

    assert not backup_dir().exists() or not any(backup_dir().iterdir())


def test_only_staff_may_copy_between_databases(outsider):
    with pytest.raises(PermissionDenied, match=r"Only staff may copy data between databases\."):
        archive_migrate(from_alias="default", to_alias="sql_tool", actor=outsider)


def test_an_editor_who_is_staff_may_back_up_and_restore(team, editor):
    archive = archive_build()
    wipe()

    report = archive_restore(archive=archive, actor=editor)

    assert report.created["agents"] == 2
    assert archive_write(path=None, actor=editor)["agents"] == 2


@pytest.mark.parametrize("path", ["team.json", "missing.json", "../../etc/passwd"])
def test_restoring_a_file_checks_staff_before_looking_at_the_file(outsider, team, staff, path):
    archive_write(path="team.json", actor=staff)

    with pytest.raises(PermissionDenied, match=r"Only staff may restore an archive\."):
        archive_restore_file(path=path, actor=outsider)


def test_staff_restore_a_file(team, staff):
    archive_write(path="team.json", actor=staff)
    wipe()

    report = archive_restore_file(path="team.json", actor=staff)

    assert report.created == {"agents": 2, "personas": 3, "screenplays": 2}
