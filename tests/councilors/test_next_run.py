"""next_run_at: when beat will really start the councilor, computed by hand here."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django_celery_beat.models import PeriodicTask

from apps.councilors import selectors, services
from tests.councilors.helpers import promote

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # a Friday, 10:00 in New York (EST)


def set_task(councilor, **fields) -> None:
    PeriodicTask.objects.filter(pk=councilor.periodic_task_id).update(**fields)
    councilor.periodic_task.refresh_from_db()


def test_an_interval_runs_its_period_after_the_last_run(councilor):
    set_task(councilor, last_run_at=NOW - timedelta(minutes=10))

    assert selectors.councilor_next_run_at(councilor, now=NOW) == NOW + timedelta(minutes=20)


def test_an_interval_never_run_counts_from_when_its_task_last_changed(councilor):
    set_task(councilor, last_run_at=None, date_changed=NOW - timedelta(minutes=5))

    assert selectors.councilor_next_run_at(councilor, now=NOW) == NOW + timedelta(minutes=25)


def test_an_overdue_interval_runs_now(councilor):
    set_task(councilor, last_run_at=NOW - timedelta(hours=3))

    assert selectors.councilor_next_run_at(councilor, now=NOW) == NOW


def test_a_cron_runs_at_the_next_match_on_its_zone_wall_clock(editor, native_agent):
    councilor = promote(
        editor,
        native_agent,
        schedule_type="cron",
        schedule_value="0 9 * * 1-5",
        timezone="America/New_York",
    )
    set_task(councilor, last_run_at=NOW - timedelta(minutes=1))

    # Friday 10:00 EST is past 09:00; the next weekday is Monday 9 March, and New York
    # moved to summer time (UTC-4) on Sunday 8 March: 09:00 EDT is 13:00 UTC.
    expected = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
    assert selectors.councilor_next_run_at(councilor, now=NOW) == expected


def test_a_cron_in_a_half_hour_zone(editor, native_agent):
    councilor = promote(
        editor,
        native_agent,
        schedule_type="cron",
        schedule_value="30 2 * * *",
        timezone="Asia/Kolkata",
    )
    set_task(councilor, last_run_at=NOW)

    # 15:00 UTC is 20:30 in Kolkata (UTC+5:30); 02:30 the next day is 21:00 UTC.
    assert selectors.councilor_next_run_at(councilor, now=NOW) == datetime(
        2026, 3, 6, 21, 0, tzinfo=UTC
    )


def test_every_fifteen_minutes(editor, native_agent):
    councilor = promote(editor, native_agent, schedule_type="cron", schedule_value="*/15 * * * *")
    set_task(councilor, last_run_at=NOW + timedelta(minutes=7))

    later = NOW + timedelta(minutes=7, seconds=30)
    assert selectors.councilor_next_run_at(councilor, now=later) == NOW + timedelta(minutes=15)


def test_a_paused_councilor_has_no_next_run(editor, councilor):
    councilor = services.councilor_pause(councilor=councilor, actor=editor)

    assert selectors.councilor_next_run_at(councilor, now=NOW) is None


def test_the_report_shows_the_next_run_from_the_real_clock(viewer_client, councilor):
    set_task(councilor, last_run_at=NOW - timedelta(minutes=10))

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        report = viewer_client.get(f"/api/councilors/{councilor.pk}/reports/").json()

    assert report["next_run_at"] == "2026-03-06T15:20:00Z"


def test_resuming_counts_the_interval_from_the_resume(editor, councilor):
    services.councilor_pause(councilor=councilor, actor=editor)
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        services.councilor_resume(councilor=councilor, actor=editor)
    councilor.periodic_task.refresh_from_db()

    assert councilor.periodic_task.last_run_at is None
    later = NOW + timedelta(minutes=1)
    assert selectors.councilor_next_run_at(councilor, now=later) == NOW + timedelta(minutes=30)
