from __future__ import annotations

import pytest

from apps.instances.models import AgentInstance
from apps.instances.services import instance_record_run
from tests.factories import AgentFactory, AgentInstanceFactory, ConversationFactory
from tests.instances.helpers import assert_envelope, detail_url

pytestmark = pytest.mark.django_db


def test_anyone_signed_in_reads_an_instance(viewer_client):
    instance = AgentInstanceFactory()

    response = viewer_client.get(detail_url(instance))

    assert response.status_code == 200
    assert response.json()["id"] == instance.pk


def test_an_unknown_instance_is_a_404(viewer_client):
    assert_envelope(viewer_client.get(detail_url(987654)), 404, "not_found")


def test_an_id_too_large_for_the_database_is_a_404(editor_client):
    assert_envelope(editor_client.get(detail_url(2**70)), 404)
    assert_envelope(editor_client.patch(detail_url(2**70), {}, format="json"), 404)


def test_an_editor_patches_position_status_and_config(editor_client):
    instance = AgentInstanceFactory()

    response = editor_client.patch(
        detail_url(instance),
        {"position": {"x": 3, "y": 4}, "status": "queued", "config": {"a": 1}},
        format="json",
    )

    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    assert (instance.position, instance.status, instance.config) == (
        {"x": 3, "y": 4},
        "queued",
        {"a": 1},
    )


def test_an_editor_swaps_the_agent(editor_client):
    instance = AgentInstanceFactory()
    agent = AgentFactory(slug="replacement")

    response = editor_client.patch(detail_url(instance), {"agent": agent.pk}, format="json")

    assert response.json()["agent_slug"] == "replacement"
    assert AgentInstance.objects.get(pk=instance.pk).agent_id == agent.pk


def test_statistics_in_a_patch_are_ignored(editor_client):
    instance = AgentInstanceFactory()
    instance_record_run(instance_id=instance.pk, exit_status="succeeded", duration_ms=100)

    response = editor_client.patch(
        detail_url(instance),
        {
            "task_count": 500,
            "success_count": 0,
            "error_count": 7,
            "total_duration_ms": 1,
            "last_exit_status": "hacked",
            "last_completed_at": None,
            "success_rate": 0,
            "average_duration_ms": 0,
            "is_deleted": True,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["task_count"] == 1
    instance.refresh_from_db()
    assert (instance.task_count, instance.success_count, instance.error_count) == (1, 1, 0)
    assert (instance.total_duration_ms, instance.last_exit_status) == (100, "succeeded")
    assert instance.last_completed_at is not None
    assert instance.is_deleted is False


def test_moving_to_another_screenplay_without_its_conversation_is_refused(editor_client):
    instance = AgentInstanceFactory()
    elsewhere = ConversationFactory()

    response = editor_client.patch(
        detail_url(instance), {"screenplay": elsewhere.screenplay_id}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "conversation" in error["details"]
    assert AgentInstance.objects.get(pk=instance.pk).screenplay_id == instance.screenplay_id


def test_moving_to_another_screenplay_with_its_conversation_works(editor_client):
    instance = AgentInstanceFactory()
    elsewhere = ConversationFactory()

    response = editor_client.patch(
        detail_url(instance),
        {"screenplay": elsewhere.screenplay_id, "conversation": elsewhere.pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    assert (instance.screenplay_id, instance.conversation_id) == (
        elsewhere.screenplay_id,
        elsewhere.pk,
    )


def test_clearing_the_cwd_with_an_empty_string_is_allowed_on_the_instance(editor_client):
    instance = AgentInstanceFactory(cwd="/srv/app")

    response = editor_client.patch(detail_url(instance), {"cwd": ""}, format="json")

    assert response.status_code == 200, response.content
    assert AgentInstance.objects.get(pk=instance.pk).cwd == ""


def test_a_relative_cwd_in_a_patch_is_refused(editor_client):
    instance = AgentInstanceFactory()

    response = editor_client.patch(detail_url(instance), {"cwd": "src"}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "cwd" in error["details"]


def test_a_put_replaces_the_writable_fields(editor_client):
    instance = AgentInstanceFactory(cwd="/old", config={"old": True})

    response = editor_client.put(
        detail_url(instance),
        {"agent": instance.agent_id, "screenplay": instance.screenplay_id, "cwd": "/new"},
        format="json",
    )

    assert response.status_code == 200, response.content
    instance.refresh_from_db()
    assert instance.cwd == "/new"


def test_a_viewer_cannot_patch(viewer_client):
    instance = AgentInstanceFactory()

    response = viewer_client.patch(detail_url(instance), {"status": "queued"}, format="json")

    assert_envelope(response, 403, "permission_denied")
    assert AgentInstance.objects.get(pk=instance.pk).status == "pending"


def test_a_deleted_instance_cannot_be_patched(editor_client):
    instance = AgentInstanceFactory(is_deleted=True)

    response = editor_client.patch(detail_url(instance), {"status": "queued"}, format="json")

    assert_envelope(response, 404)
