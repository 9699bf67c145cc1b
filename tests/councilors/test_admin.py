import pytest
from django_celery_beat.models import PeriodicTask

from apps.councilors import services
from apps.councilors.models import Councilor, CouncilorTick
from apps.runs.models import Run
from tests.councilors.helpers import assert_no_orphans, promote
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/councilors/councilor/"


def action(client, name: str, councilor):
    return client.post(
        CHANGELIST, {"action": name, "_selected_action": [councilor.pk]}, follow=True
    )


def test_the_changelist_shows_the_schedule_in_words_and_the_next_run(
    editor_admin, editor, native_agent
):
    promote(editor, native_agent)
    promote(
        editor, native_agent, title="Often", schedule_type="cron", schedule_value="*/15 * * * *"
    )
    paused = promote(editor, native_agent, title="Sleeping")
    services.councilor_pause(councilor=paused, actor=editor)

    page = editor_admin.get(CHANGELIST).content.decode()

    assert "every 30 minutes" in page
    assert "Every 15 minutes" in page
    assert "paused" in page


def test_the_changelist_shows_the_last_severity(editor_admin, councilor):
    tick = services.councilor_execute(councilor_id=councilor.pk)
    Run.objects.filter(pk=tick.run_id).update(
        status="succeeded", severity="warning", finished_at="2026-01-01T00:00:00Z"
    )

    page = editor_admin.get(CHANGELIST).content.decode()

    assert '<td class="field-last_severity">warning</td>' in page


def test_the_changelist_costs_constant_queries(editor_admin, editor, native_agent):
    def make(count: int) -> None:
        for n in range(count):
            promote(editor, native_agent, title=f"Watch {n}")

    assert_constant_queries(lambda: editor_admin.get(CHANGELIST), make, large=10)


def test_pause_and_resume_actions(editor_admin, councilor):
    action(editor_admin, "pause", councilor)
    assert PeriodicTask.objects.get(pk=councilor.periodic_task_id).enabled is False

    response = action(editor_admin, "resume", councilor)

    assert "Resumed 1 councilor(s)." in response.content.decode()
    assert PeriodicTask.objects.get(pk=councilor.periodic_task_id).enabled is True


def test_the_execute_now_action_starts_a_run_or_says_why_not(editor_admin, councilor):
    action(editor_admin, "execute_now", councilor)
    response = action(editor_admin, "execute_now", councilor)

    assert Run.objects.filter(source="councilor").count() == 1
    assert "still queued" in response.content.decode()
    assert list(CouncilorTick.objects.order_by("id").values_list("outcome", flat=True)) == [
        "started",
        "skipped",
    ]


def test_the_add_form_promotes_an_agent(editor_admin, native_agent):
    response = editor_admin.post(
        f"{CHANGELIST}add/",
        {
            "agent": native_agent.pk,
            "working_directory": "/srv/admin-made",
            "title": "Made in the admin",
            "schedule_type": "cron",
            "schedule_value": "0 6 * * *",
            "timezone": "Europe/Berlin",
            "enabled": "on",
            "task_name": "Morning check",
            "task_prompt": "Check everything.",
            "output_format": "detailed",
            "notify_channels": '["panel"]',
            "ticks-TOTAL_FORMS": "0",
            "ticks-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    councilor = Councilor.objects.get()
    assert councilor.instance.screenplay.working_directory == "/srv/admin-made"
    assert str(councilor.periodic_task.crontab.timezone) == "Europe/Berlin"
    assert_no_orphans()


def test_the_change_form_refuses_a_bad_schedule(editor_admin, councilor):
    response = editor_admin.post(
        f"{CHANGELIST}{councilor.pk}/change/",
        {
            "title": councilor.title,
            "schedule_type": "cron",
            "schedule_value": "99 * * * *",
            "timezone": "UTC",
            "enabled": "on",
            "task_name": councilor.task_name,
            "task_prompt": councilor.task_prompt,
            "output_format": "summary",
            "notify_channels": '["panel"]',
            "ticks-TOTAL_FORMS": "0",
            "ticks-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "not in 0-59" in response.content.decode()
    councilor.periodic_task.refresh_from_db()
    assert councilor.periodic_task.interval is not None


def test_deleting_in_the_admin_demotes(editor_admin, councilor):
    response = editor_admin.post(
        f"{CHANGELIST}{councilor.pk}/delete/", {"post": "yes"}, follow=True
    )

    assert response.status_code == 200
    assert not Councilor.objects.exists()
    assert_no_orphans()


def test_the_tick_admin_lists_skipped_ticks(editor_admin, councilor):
    services.councilor_execute(councilor_id=councilor.pk)
    services.councilor_execute(councilor_id=councilor.pk)

    page = editor_admin.get("/admin/councilors/councilortick/?outcome=skipped").content.decode()

    assert "previous run still going" in page
