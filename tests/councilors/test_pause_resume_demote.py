import pytest
from django_celery_beat.models import PeriodicTask

from apps.conversations.models import Conversation
from apps.councilors.models import Councilor
from apps.instances.models import AgentInstance
from apps.screenplays.models import Screenplay
from tests.councilors.helpers import assert_no_orphans, unused_schedule_rows
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db


def test_pause_disables_the_periodic_task_and_clears_the_next_run(editor_client, councilor):
    response = editor_client.post(f"/api/councilors/{councilor.pk}/pause/")

    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False
    assert response.json()["next_run_at"] is None
    assert PeriodicTask.objects.get(pk=councilor.periodic_task_id).enabled is False
    assert_no_orphans()


def test_resume_enables_it_again(editor_client, councilor):
    editor_client.post(f"/api/councilors/{councilor.pk}/pause/")

    response = editor_client.post(f"/api/councilors/{councilor.pk}/resume/")

    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is True
    assert response.json()["next_run_at"] is not None
    assert PeriodicTask.objects.get(pk=councilor.periodic_task_id).enabled is True


def test_demote_removes_the_councilor_and_its_task_and_keeps_the_history(editor_client, councilor):
    instance = councilor.instance

    response = editor_client.post(f"/api/councilors/{councilor.pk}/demote/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "demoted": councilor.pk,
        "kept": {
            "instance": instance.pk,
            "conversation": instance.conversation_id,
            "screenplay": instance.screenplay_id,
        },
    }
    assert not Councilor.objects.exists()
    assert not PeriodicTask.objects.filter(pk=councilor.periodic_task_id).exists()
    assert AgentInstance.objects.filter(pk=instance.pk).exists()
    assert Conversation.objects.filter(pk=instance.conversation_id).exists()
    assert Screenplay.objects.filter(pk=instance.screenplay_id).exists()
    assert unused_schedule_rows() == []
    assert_no_orphans()


def test_a_demoted_councilor_is_gone(editor_client, councilor):
    editor_client.post(f"/api/councilors/{councilor.pk}/demote/")

    response = editor_client.post(f"/api/councilors/{councilor.pk}/demote/")

    assert_envelope(response, 404, "not_found")


def test_deleting_its_instance_for_good_takes_the_periodic_task_too(councilor):
    councilor.instance.delete()

    assert not Councilor.objects.exists()
    assert not PeriodicTask.objects.filter(pk=councilor.periodic_task_id).exists()
    assert_no_orphans()


def test_its_periodic_task_cannot_be_deleted_from_under_it(councilor):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        councilor.periodic_task.delete()

    assert_no_orphans()
