import pytest

from apps.conversations.models import Conversation
from tests.envelope import assert_envelope
from tests.factories import ConversationFactory, ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/conversations/"


def test_any_user_starts_a_conversation_they_own(viewer_client, viewer):
    screenplay = ScreenplayFactory()

    response = viewer_client.post(
        URL, {"title": "Kickoff", "context": "# Goals", "screenplay": screenplay.pk}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Kickoff"
    assert body["created_by"] == "viewer"
    assert body["max_chain_depth"] == 3
    assert body["auto_delegate"] is False
    assert body["participants"] == []
    assert body["message_count"] == 0
    assert Conversation.objects.get(pk=body["id"]).created_by == viewer


def test_a_new_conversation_goes_to_the_end_of_the_order(viewer_client, viewer):
    ConversationFactory(created_by=viewer, display_order=7)

    response = viewer_client.post(URL, {"title": "Later"}, format="json")

    assert response.json()["display_order"] == 8


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 12}, "title"),
        ({"title": "bell \x07"}, "title"),
        ({"title": "ok", "max_chain_depth": 0}, "max_chain_depth"),
        ({"title": "ok", "max_chain_depth": 11}, "max_chain_depth"),
        ({"title": "ok", "max_chain_depth": "x"}, "max_chain_depth"),
        ({"title": "ok", "screenplay": 999999}, "screenplay"),
        ({"title": "ok", "context": "x" * (50 * 1024 + 1)}, "context"),
        ({"title": "ok", "context": "nul \x00"}, "context"),
        ({"title": "ok", "display_order": -1}, "display_order"),
    ],
)
def test_it_rejects_bad_input_with_the_envelope(viewer_client, payload, field):
    response = viewer_client.post(URL, payload, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert field in error["details"]
    assert not Conversation.objects.exists()


def test_a_malformed_json_body_is_a_400(viewer_client):
    response = viewer_client.post(URL, "{not json", content_type="application/json")

    assert_envelope(response, 400)
