import json
import os
import stat

import pytest

from apps.archive.exceptions import BackupNotFound, BackupPathRefused, InvalidArchive
from apps.archive.files import backup_dir
from apps.archive.services import archive_build, archive_read, archive_restore, archive_write
from tests.archive.conftest import wipe, without_created_at

pytestmark = pytest.mark.django_db


def test_a_backup_without_a_name_gets_a_timestamped_file_in_the_backup_dir(team, staff, settings):
    written = archive_write(path=None, actor=staff)

    path = written["path"]
    assert os.path.dirname(path) == str((settings.DATA_DIR / "backups").resolve())
    assert os.path.basename(path).startswith("conductor-archive-")
    assert path.endswith(".json")
    assert written == {
        "path": path,
        "agents": 2,
        "personas": 3,
        "persona_versions": 6,
        "screenplays": 2,
    }


def test_the_file_is_readable_by_its_owner_only(team, staff):
    path = archive_write(path="team.json", actor=staff)["path"]

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700


def test_a_backup_read_back_restores_everything(team, staff):
    archive_write(path="nightly/team.json", actor=staff)
    before = archive_build()
    wipe()

    archive_restore(archive=archive_read(path="nightly/team.json"), actor=staff)

    assert without_created_at(archive_build()) == without_created_at(before)


def test_writing_again_replaces_the_file(team, staff):
    archive_write(path="team.json", actor=staff)
    wipe()

    written = archive_write(path="team.json", actor=staff)

    assert written["agents"] == 0
    assert archive_read(path="team.json")["agents"] == []


def test_the_backup_dir_setting_moves_the_files(team, staff, settings, tmp_path):
    settings.CONDUCTOR_BACKUP_DIR = tmp_path / "elsewhere"

    written = archive_write(path="x.json", actor=staff)

    assert written["path"] == str((tmp_path / "elsewhere" / "x.json").resolve())


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "../outside.json",
        "nightly/../../outside.json",
        "/etc/passwd",
        "/srv/conductor-evil.json",
        "",
        "   ",
        ".",
        "nul\x00.json",
        "team.txt",
        "team",
    ],
)
def test_a_path_outside_the_backup_dir_or_not_json_is_refused(team, staff, path, tmp_path):
    with pytest.raises(BackupPathRefused) as raised:
        archive_write(path=path, actor=staff)

    assert raised.value.message
    with pytest.raises(BackupPathRefused):
        archive_read(path=path)


def test_an_absolute_path_elsewhere_is_refused_and_nothing_is_written(team, staff, tmp_path):
    elsewhere = tmp_path / "evil.json"

    with pytest.raises(BackupPathRefused):
        archive_write(path=str(elsewhere), actor=staff)

    assert not elsewhere.exists()


def test_an_absolute_path_inside_the_backup_dir_is_accepted(team, staff):
    inside = str(backup_dir() / "absolute.json")

    assert archive_write(path=inside, actor=staff)["path"] == inside


def test_the_refusal_names_the_backup_dir(team, staff):
    with pytest.raises(BackupPathRefused) as raised:
        archive_write(path="../../etc/passwd", actor=staff)

    assert "'../../etc/passwd' is outside the backup directory" in raised.value.message
    assert str(backup_dir()) in raised.value.message


def test_a_symlink_pointing_out_of_the_backup_dir_is_refused(team, staff, tmp_path):
    secret = tmp_path / "outside.json"
    secret.write_text('{"format": "conductor-archive"}')
    backup_dir().mkdir(parents=True)
    (backup_dir() / "link.json").symlink_to(secret)

    with pytest.raises(BackupPathRefused):
        archive_write(path="link.json", actor=staff)
    with pytest.raises(BackupPathRefused):
        archive_read(path="link.json")

    assert secret.read_text() == '{"format": "conductor-archive"}'


def test_a_symlinked_folder_pointing_out_of_the_backup_dir_is_refused(team, staff, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    backup_dir().mkdir(parents=True)
    (backup_dir() / "escape").symlink_to(outside, target_is_directory=True)

    with pytest.raises(BackupPathRefused):
        archive_write(path="escape/team.json", actor=staff)

    assert list(outside.iterdir()) == []


def test_reading_a_missing_backup_says_so(db):
    with pytest.raises(BackupNotFound) as raised:
        archive_read(path="never-written.json")

    assert "There is no backup 'never-written.json' in" in raised.value.message


def test_reading_a_file_that_is_not_json_says_so(db):
    backup_dir().mkdir(parents=True)
    (backup_dir() / "broken.json").write_text("{not json")

    with pytest.raises(InvalidArchive, match=r"The backup 'broken\.json' is not JSON"):
        archive_read(path="broken.json")


def test_reading_json_that_is_not_an_archive_says_so(db):
    backup_dir().mkdir(parents=True)
    (backup_dir() / "other.json").write_text(json.dumps({"format": "other"}))

    with pytest.raises(InvalidArchive, match="Not a Conductor archive"):
        archive_read(path="other.json")
