import pytest

from apps.runs.models import Run
from tests.factories import AgentFactory, AgentInstanceFactory, ConversationFactory, UserFactory
from tests.runs.helpers import event_names

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, body, format="json")


@pytest.mark.parametrize(
    ("body", "expected_input"),
    [
        ({"input": "plain input"}, "plain input"),
        ({"command": "a command"}, "a command"),
        (
            {
                "textEntries": [
                    {"content": "first", "type": "text"},
                    {"content": "ignored", "type": "image"},
                    {"content": "second", "type": "text"},
                ],
                "metadata": {"client": "gateway"},
            },
            "first\n\nsecond",
        ),
    ],
)
def test_all_three_payload_formats_start_a_queued_run(
    viewer_client, native_agent, body, expected_input
):
    response = post(viewer_client, "/api/agents/native/run/", {**body, "cwd": "/srv/project"})

    assert response.status_code == 202, response.content
    run = Run.objects.get(pk=response.json()["id"])
    assert run.input == expected_input
    assert run.status == "queued"
    assert event_names(str(run.pk)) == ["run.queued"]
    assert response.json()["events_url"] == f"/api/runs/{run.pk}/events/"


def test_post_runs_names_the_agent_in_the_body(viewer_client, native_agent):
    by_agent = post(
        viewer_client, "/api/runs/", {"agent": "native", "input": "x", "cwd": "/srv/project"}
    )
    by_agent_id = post(
        viewer_client, "/api/runs/", {"agent_id": "native", "input": "x", "cwd": "/srv/project"}
    )

    assert by_agent.status_code == by_agent_id.status_code == 202
    assert by_agent.json()["agent"] == "native"


def test_the_cwd_falls_back_to_the_screenplays_working_directory(
    viewer_client, native_agent, screenplay
):
    response = post(
        viewer_client, "/api/agents/native/run/", {"input": "x", "screenplay_id": screenplay.pk}
    )

    assert response.status_code == 202
    assert response.json()["cwd"] == "/srv/project"


def test_without_any_cwd_the_answer_is_a_400_that_says_so(viewer_client, native_agent):
    response = post(viewer_client, "/api/agents/native/run/", {"input": "x"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cwd_required"
    assert "working directory" in response.json()["error"]["message"]
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "input"),
        ({"input": "a", "command": "b"}, "input"),
        ({"input": "   "}, "input"),
        ({"input": 42}, "input"),
        ({"textEntries": "not a list"}, "textEntries"),
        ({"textEntries": [{"content": "x", "type": "image"}]}, "textEntries"),
        ({"input": "x", "context_mode": "telepathic"}, "context_mode"),
        ({"input": "x", "max_steps": 0}, "max_steps"),
        ({"input": "x", "max_steps": 101}, "max_steps"),
        ({"input": "x", "timeout_seconds": "soon"}, "timeout_seconds"),
        ({"input": "x", "max_cost_usd": -1}, "max_cost_usd"),
        ({"input": "x", "max_tokens": 0}, "max_tokens"),
        ({"input": "x", "model": "not a model"}, "model"),
        ({"input": "x", "instance_id": 999999}, "instance_id"),
        ({"input": "x", "screenplay_id": "abc"}, "screenplay_id"),
        ({"input": "x" * 100_001}, "input"),
    ],
)
def test_bad_run_input_gets_a_400_naming_the_field(viewer_client, native_agent, body, field):
    response = post(viewer_client, "/api/agents/native/run/", {"cwd": "/srv/project", **body})

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not Run.objects.exists()


def test_a_relative_cwd_is_rejected(viewer_client, native_agent):
    response = post(viewer_client, "/api/agents/native/run/", {"input": "x", "cwd": "work/dir"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_run_request"


def test_another_users_conversation_cannot_be_used(viewer_client, native_agent):
    foreign = ConversationFactory(created_by=UserFactory(username="someone"))

    response = post(
        viewer_client,
        "/api/agents/native/run/",
        {
            "input": "x",
            "cwd": "/srv/project",
            "conversation_id": foreign.pk,
            "context_mode": "contextual",
        },
    )

    assert response.status_code == 400
    assert "conversation_id" in response.json()["error"]["details"]


def test_a_contextual_run_needs_a_conversation(viewer_client, native_agent):
    response = post(
        viewer_client,
        "/api/agents/native/run/",
        {"input": "x", "cwd": "/srv/project", "context_mode": "contextual"},
    )

    assert response.status_code == 400
    assert "conversation" in response.json()["error"]["message"]


def test_an_inactive_agent_cannot_run(viewer_client):
    AgentFactory(slug="retired", is_active=False)

    response = post(
        viewer_client, "/api/agents/retired/run/", {"input": "x", "cwd": "/srv/project"}
    )

    assert response.status_code == 400
    assert "not active" in response.json()["error"]["message"]


def test_an_instance_of_another_agent_is_rejected(viewer, viewer_client, native_agent):
    instance = AgentInstanceFactory(conversation=ConversationFactory(created_by=viewer))

    response = post(
        viewer_client,
        "/api/agents/native/run/",
        {"input": "x", "cwd": "/srv/project", "instance_id": instance.pk},
    )

    assert response.status_code == 400
    assert "another agent" in response.json()["error"]["message"]


def test_starting_a_run_needs_authentication(api_client, native_agent):
    response = post(api_client, "/api/agents/native/run/", {"input": "x", "cwd": "/srv/project"})

    assert response.status_code == 401
