import json

import pytest
from asgiref.sync import sync_to_async
from rest_framework.test import APIClient

from apps.activity.models import TaskEvent
from tests.envelope import assert_envelope
from tests.streams.sockets import open_socket

pytestmark = pytest.mark.django_db

INGEST = "/api/internal/task-event/"
TOKEN = "s3rvice-t0ken"
EVENT = {
    "type": "task_inputted",
    "data": {
        "agent": {"name": "Ada", "emoji": "🦉"},
        "severity": "warning",
        "summary": "Indexed the wiki",
        "duration_ms": 1200,
        "screenplay": 3,
        "conversation": None,
        "instance": 7,
        "councilor": False,
    },
}


@pytest.fixture
def service_token(settings):
    settings.CONDUCTOR_SERVICE_TOKEN = TOKEN
    return TOKEN


def service_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_staff_post_an_event_that_is_stored_for_everyone(staff_client, viewer_client):
    response = staff_client.post(INGEST, EVENT, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "type", "data", "timestamp"}
    assert (body["type"], body["data"]) == ("task_inputted", EVENT["data"])
    stored = TaskEvent.objects.get(pk=body["id"])
    assert (stored.audience_id, stored.run_id, stored.councilor) == (None, None, False)
    assert viewer_client.get("/api/tasks/events/").json()["results"] == [body]


def test_a_service_with_the_token_posts_an_event(service_token):
    response = service_client(service_token).post(INGEST, EVENT, format="json")

    assert response.status_code == 201, response.content
    assert TaskEvent.objects.filter(type="task_inputted").count() == 1


def test_a_wrong_service_token_is_rejected(service_token):
    response = service_client("not-the-token").post(INGEST, EVENT, format="json")

    assert_envelope(response, 401, "authentication_failed")
    assert not TaskEvent.objects.exists()


def test_no_service_token_is_accepted_while_none_is_configured(settings):
    settings.CONDUCTOR_SERVICE_TOKEN = ""

    response = service_client(TOKEN).post(INGEST, EVENT, format="json")

    assert_envelope(response, 401, "authentication_failed")


def test_a_signed_in_user_who_is_not_staff_is_forbidden(service_token, viewer_client):
    assert_envelope(viewer_client.post(INGEST, EVENT, format="json"), 403, "permission_denied")
    assert not TaskEvent.objects.exists()


def test_an_anonymous_client_is_not_authenticated(service_token, api_client):
    response = api_client.post(INGEST, EVENT, format="json")

    assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_data_may_be_left_out(staff_client):
    response = staff_client.post(INGEST, {"type": "task_submitted"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["data"] == {}


@pytest.mark.parametrize("data", [{"councilor": True}, {"source": "councilor"}])
def test_an_event_flagged_as_a_councilors_is_in_the_councilor_feed(staff_client, data):
    staff_client.post(INGEST, {"type": "task_started", "data": data}, format="json")

    councilors = staff_client.get("/api/tasks/events/?include_regular=false").json()["results"]
    regular = staff_client.get("/api/tasks/events/?include_councilors=false").json()["results"]

    assert [event["data"] for event in councilors] == [data]
    assert regular == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": {}}, "type"),
        ({"type": "task_exploded"}, "type"),
        ({"type": None}, "type"),
        ({"type": "task_started", "data": ["summary"]}, "data"),
        ({"type": "task_started", "data": "summary"}, "data"),
        ({"type": "task_started", "data": None}, "data"),
        ({"type": "task_started", "when": "now"}, "when"),
        ({"type": "task_started", "data": {"colour": "red"}}, "data"),
        ({"type": "task_started", "data": {"agent": "Ada"}}, "data"),
        ({"type": "task_started", "data": {"agent": {"name": 7}}}, "data"),
        ({"type": "task_started", "data": {"agent": {"emoji": "🦉" * 17}}}, "data"),
        ({"type": "task_started", "data": {"agent": {"mood": "calm"}}}, "data"),
        ({"type": "task_started", "data": {"severity": "panic"}}, "data"),
        ({"type": "task_started", "data": {"summary": "x" * 201}}, "data"),
        ({"type": "task_started", "data": {"summary": 42}}, "data"),
        ({"type": "task_started", "data": {"duration_ms": -1}}, "data"),
        ({"type": "task_started", "data": {"duration_ms": "12"}}, "data"),
        ({"type": "task_started", "data": {"duration_ms": 1.5}}, "data"),
        ({"type": "task_started", "data": {"duration_ms": True}}, "data"),
        ({"type": "task_started", "data": {"screenplay": "3"}}, "data"),
        ({"type": "task_started", "data": {"conversation": 0}}, "data"),
        ({"type": "task_started", "data": {"instance": [1]}}, "data"),
        ({"type": "task_started", "data": {"councilor": "yes"}}, "data"),
        ({"type": "task_started", "data": {"source": "carrier-pigeon"}}, "data"),
        ({"type": "task_started", "data": {"task_id": "x" * 101}}, "data"),
    ],
)
def test_each_invalid_event_is_a_400_naming_the_field(staff_client, body, field):
    error = assert_envelope(staff_client.post(INGEST, body, format="json"), 400, "validation_error")

    assert field in error["details"]
    assert not TaskEvent.objects.exists()


def test_an_unknown_data_key_is_named(staff_client):
    body = {"type": "task_started", "data": {"colour": "red"}}

    error = assert_envelope(staff_client.post(INGEST, body, format="json"), 400)

    assert error["details"] == {"data": {"colour": ["Unknown field."]}}


def test_a_body_over_8_kb_is_refused_unparsed(staff_client):
    body = json.dumps({"type": "task_started", "data": {"summary": "x" * 9000}})

    response = staff_client.post(INGEST, body, content_type="application/json")

    assert assert_envelope(response, 413, "payload_too_large")["details"] == {"max_bytes": 8192}


def test_malformed_json_is_a_400(staff_client):
    response = staff_client.post(INGEST, '{"type": ', content_type="application/json")

    assert_envelope(response, 400, "parse_error")


def test_a_form_encoded_body_is_an_unsupported_media_type(staff_client):
    response = staff_client.post(INGEST, {"type": "task_started"})

    assert_envelope(response, 415, "unsupported_media_type")


@pytest.mark.django_db(transaction=True)
async def test_a_posted_event_is_broadcast_to_every_tasks_subscriber(viewer, service_token):
    _, _, socket = await open_socket(viewer, "/ws/gamification/")
    await socket.receive_json_from(timeout=2)
    await socket.send_json_to({"type": "subscribe", "topics": ["tasks"]})
    await socket.receive_json_from(timeout=2)

    response = await sync_to_async(service_client(service_token).post)(INGEST, EVENT, format="json")
    message = await socket.receive_json_from(timeout=2)

    assert response.status_code == 201, response.content
    body = response.json()
    assert message == {
        "type": "event",
        "topic": "tasks",
        "payload": {
            "event": "task_inputted",
            "id": body["id"],
            **EVENT["data"],
            "timestamp": message["payload"]["timestamp"],
        },
    }
    await socket.disconnect()
