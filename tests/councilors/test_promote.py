from unittest import mock

import pytest
from django_celery_beat.models import PeriodicTask

from apps.conversations.models import Conversation
from apps.councilors import services
from apps.councilors.models import Councilor
from apps.instances.models import AgentInstance
from apps.screenplays.models import Screenplay
from tests.councilors.helpers import assert_no_orphans, promote, promote_body
from tests.envelope import assert_envelope
from tests.factories import AgentFactory, ScreenplayFactory

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    models = [Screenplay, Conversation, AgentInstance, Councilor, PeriodicTask]
    return {model.__name__: model.objects.count() for model in models}


def test_promoting_an_agent_creates_its_councilor_and_periodic_task(editor_client, native_agent):
    response = editor_client.post("/api/councilors/promote/", promote_body(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    councilor = Councilor.objects.get(pk=body["id"])
    task = councilor.periodic_task
    assert task.name == f"councilor:{councilor.pk}"
    assert task.task == "councilors.tick"
    assert task.args == f"[{councilor.pk}]"
    assert task.enabled is True
    assert (task.interval.every, task.interval.period) == (30, "minutes")
    assert task.crontab is None
    assert body["schedule_description"] == "every 30 minutes"
    assert body["agent"] == "native"
    assert body["next_run_at"] is not None
    assert_no_orphans()


def test_promote_creates_the_screenplay_conversation_and_instance(editor, native_agent):
    councilor = promote(editor, native_agent)

    instance = councilor.instance
    assert instance.agent == native_agent
    assert instance.screenplay.working_directory == "/srv/councilors/uptime"
    assert instance.conversation.screenplay == instance.screenplay
    assert instance.conversation.created_by == editor
    assert instance.conversation.active_agent == instance


def test_without_a_working_directory_the_configured_default_is_used(editor, native_agent, settings):
    settings.CONDUCTOR_COUNCILOR_WORKING_DIRECTORY = "/srv/watchers"

    councilor = promote(editor, native_agent, working_directory="")

    assert councilor.instance.screenplay.working_directory == "/srv/watchers"


def test_a_cron_councilor_gets_a_crontab_in_its_time_zone(editor_client, native_agent):
    body = promote_body(schedule_type="cron", schedule_value="*/15 8-18 * * 1-5")
    body["timezone"] = "Europe/Paris"

    response = editor_client.post("/api/councilors/promote/", body, format="json")

    assert response.status_code == 201, response.content
    crontab = Councilor.objects.get(pk=response.json()["id"]).periodic_task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_month) == ("*/15", "8-18", "*")
    assert (crontab.month_of_year, crontab.day_of_week) == ("*", "1-5")
    assert str(crontab.timezone) == "Europe/Paris"


def test_context_screenplays_are_attached(editor_client, native_agent):
    runbook = ScreenplayFactory(name="Runbook")

    body = promote_body(context_screenplays=[runbook.pk])
    response = editor_client.post("/api/councilors/promote/", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["context_screenplays"] == [runbook.pk]


def test_a_failure_half_way_leaves_nothing_behind(editor, native_agent):
    before = row_counts()

    with (
        mock.patch.object(services, "_save", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        promote(editor, native_agent)

    assert row_counts() == before


def test_an_invalid_promotion_creates_nothing(editor_client, native_agent):
    before = row_counts()

    body = promote_body(schedule_value="0m")
    response = editor_client.post("/api/councilors/promote/", body, format="json")

    assert_envelope(response, 400, "validation_error")
    assert row_counts() == before


def test_an_inactive_agent_cannot_be_promoted(editor_client):
    AgentFactory(slug="retired", is_active=False)

    body = promote_body("retired")
    response = editor_client.post("/api/councilors/promote/", body, format="json")

    assert_envelope(response, 400, "invalid_promotion")
    assert not Councilor.objects.exists()


def test_an_unknown_agent_is_a_400(editor_client):
    response = editor_client.post("/api/councilors/promote/", promote_body("nobody"), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "agent" in error["details"]


def test_a_councilor_is_listed_and_retrieved(viewer_client, councilor):
    listed = viewer_client.get("/api/councilors/")
    detail = viewer_client.get(f"/api/councilors/{councilor.pk}/")

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [councilor.pk]
    assert detail.json()["title"] == "Uptime watch"
    assert detail.json()["periodic_task"] == f"councilor:{councilor.pk}"
