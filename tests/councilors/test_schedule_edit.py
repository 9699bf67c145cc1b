import pytest
from django_celery_beat.models import CrontabSchedule, IntervalSchedule

from apps.councilors.models import Councilor
from tests.councilors.helpers import assert_no_orphans, unused_schedule_rows

pytestmark = pytest.mark.django_db


def patch(client, councilor, **body):
    response = client.patch(f"/api/councilors/{councilor.pk}/", body, format="json")
    assert response.status_code == 200, response.content
    return Councilor.objects.select_related("periodic_task").get(pk=councilor.pk)


def test_changing_the_interval_changes_the_periodic_task(editor_client, councilor):
    old_interval = councilor.periodic_task.interval

    changed = patch(editor_client, councilor, schedule_value="2h")

    interval = changed.periodic_task.interval
    assert (interval.every, interval.period) == (2, "hours")
    assert changed.periodic_task.pk == councilor.periodic_task.pk
    assert not IntervalSchedule.objects.filter(pk=old_interval.pk).exists()
    assert unused_schedule_rows() == []


def test_an_interval_becomes_a_cron(editor_client, councilor):
    changed = patch(
        editor_client,
        councilor,
        schedule_type="cron",
        schedule_value="0 7 * * 1",
        timezone="Asia/Tokyo",
    )

    task = changed.periodic_task
    assert task.interval is None
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "7", "1")
    assert str(task.crontab.timezone) == "Asia/Tokyo"
    assert unused_schedule_rows() == []
    assert_no_orphans()


def test_a_cron_becomes_an_interval(editor_client, editor, native_agent):
    from tests.councilors.helpers import promote

    councilor = promote(editor, native_agent, schedule_type="cron", schedule_value="*/5 * * * *")

    changed = patch(editor_client, councilor, schedule_type="interval", schedule_value="45s")

    task = changed.periodic_task
    assert task.crontab is None
    assert (task.interval.every, task.interval.period) == (45, "seconds")
    assert not CrontabSchedule.objects.exists()
    assert_no_orphans()


def test_a_new_time_zone_moves_the_crontab(editor_client, editor, native_agent):
    from tests.councilors.helpers import promote

    councilor = promote(editor, native_agent, schedule_type="cron", schedule_value="0 9 * * *")

    changed = patch(editor_client, councilor, timezone="America/New_York")

    assert str(changed.periodic_task.crontab.timezone) == "America/New_York"
    assert CrontabSchedule.objects.count() == 1


def test_a_schedule_row_another_task_uses_is_kept(editor_client, editor, native_agent):
    from tests.councilors.helpers import promote

    first = promote(editor, native_agent)
    second = promote(editor, native_agent, title="Second watch")
    shared = first.periodic_task.interval
    assert second.periodic_task.interval == shared

    patch(editor_client, first, schedule_value="1d")

    assert IntervalSchedule.objects.filter(pk=shared.pk).exists()
    second.periodic_task.refresh_from_db()
    assert second.periodic_task.interval == shared


def test_other_settings_are_saved(editor_client, councilor):
    changed = patch(
        editor_client,
        councilor,
        title="Night watch",
        display_name="Owl",
        color="#112233",
        output_format="checklist",
        notify_channels=["panel", "toast"],
    )

    assert (changed.title, changed.display_name, changed.color) == ("Night watch", "Owl", "#112233")
    assert changed.output_format == "checklist"
    assert changed.notify_channels == ["panel", "toast"]
    assert "Night watch" in changed.periodic_task.description
