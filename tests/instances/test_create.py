from __future__ import annotations

from typing import Any

import pytest

from apps.instances.models import AgentInstance
from tests.factories import (
    AgentFactory,
    AgentInstanceFactory,
    ConversationFactory,
    ScreenplayFactory,
)
from tests.instances.helpers import URL, assert_envelope

pytestmark = pytest.mark.django_db


def payload(**overrides: Any) -> dict[str, Any]:
    conversation = ConversationFactory()
    body: dict[str, Any] = {
        "agent": AgentFactory(slug="writer", name="Writer", emoji="✍️").pk,
        "screenplay": conversation.screenplay_id,
        "conversation": conversation.pk,
    }
    body.update(overrides)
    return body


def test_an_editor_creates_an_instance(editor_client):
    body = payload(position={"x": 10, "y": 20.5}, cwd="/srv/app", config={"temperature": 0.2})

    response = editor_client.post(URL, body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["agent_slug"], data["agent_name"], data["agent_emoji"]) == (
        "writer",
        "Writer",
        "✍️",
    )
    assert data["position"] == {"x": 10, "y": 20.5}
    assert (data["status"], data["task_count"], data["success_rate"]) == ("pending", 0, None)
    row = AgentInstance.objects.get(pk=data["id"])
    assert (row.cwd, row.config, row.conversation_id) == (
        "/srv/app",
        {"temperature": 0.2},
        body["conversation"],
    )


def test_a_new_instance_goes_after_the_screenplays_last_one(editor_client):
    existing = AgentInstanceFactory(display_order=7)

    response = editor_client.post(
        URL,
        {"agent": existing.agent_id, "screenplay": existing.screenplay_id},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["display_order"] == 8
    assert response.json()["conversation"] is None


def test_statistics_sent_on_create_are_not_applied(editor_client):
    response = editor_client.post(
        URL, payload(task_count=99, success_count=99, last_exit_status="succeeded"), format="json"
    )

    assert response.status_code == 201, response.content
    row = AgentInstance.objects.get(pk=response.json()["id"])
    assert (row.task_count, row.success_count, row.last_exit_status) == (0, 0, "")


def test_a_conversation_of_another_screenplay_is_refused(editor_client):
    other = ConversationFactory()

    response = editor_client.post(URL, payload(conversation=other.pk), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "conversation" in error["details"]
    assert not AgentInstance.objects.exists()


def test_a_deleted_screenplay_is_refused_like_a_missing_one(editor_client):
    deleted = ScreenplayFactory(deleted=True)

    deleted_response = editor_client.post(
        URL, payload(screenplay=deleted.pk, conversation=None), format="json"
    )
    missing_response = editor_client.post(
        URL, payload(screenplay=987654, conversation=None), format="json"
    )

    deleted_error = assert_envelope(deleted_response, 400, "validation_error")
    missing_error = assert_envelope(missing_response, 400, "validation_error")
    assert "screenplay" in deleted_error["details"]
    assert "screenplay" in missing_error["details"]


def test_a_missing_agent_is_refused(editor_client):
    response = editor_client.post(URL, payload(agent=987654), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "agent" in error["details"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("agent", "writer"),
        ("agent", None),
        ("screenplay", [1]),
        ("conversation", 2**70),
        ("position", {"x": 1}),
        ("position", {"x": "1", "y": 2}),
        ("position", {"x": True, "y": 2}),
        ("position", [1, 2]),
        ("display_order", -1),
        ("display_order", 2**40),
        ("display_order", "first"),
        ("cwd", "relative/dir"),
        ("cwd", "~/x"),
        ("cwd", "/srv/\x00evil"),
        ("cwd", 5),
        ("cwd", "/" + "a" * 600),
        ("status", "sleeping"),
        ("status", 1),
        ("config", ["not", "an", "object"]),
        ("config", "text"),
        ("config", {"big": "x" * 21_000}),
        ("mcp_configs", [1]),
        ("mcp_configs", {"big": "x" * 21_000}),
    ],
)
def test_bad_input_is_a_400_naming_the_field(editor_client, field, value):
    response = editor_client.post(URL, payload(**{field: value}), format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert field in error["details"], error
    assert not AgentInstance.objects.exists()


def test_a_body_that_is_not_json_is_a_400(editor_client):
    response = editor_client.post(URL, "{not json", content_type="application/json")

    assert_envelope(response, 400)


def test_a_viewer_cannot_create(viewer_client):
    response = viewer_client.post(URL, payload(), format="json")

    assert_envelope(response, 403, "permission_denied")
    assert not AgentInstance.objects.exists()


def test_an_anonymous_client_cannot_create(api_client):
    assert_envelope(api_client.post(URL, payload(), format="json"), 401)
