import pytest

from apps.conversations.models import Message
from tests.envelope import assert_envelope
from tests.factories import AgentFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def post(client, conversation, payload):
    return client.post(f"/api/conversations/{conversation.pk}/messages/", payload, format="json")


def test_the_owner_posts_a_user_message(viewer_client, mine):
    response = post(viewer_client, mine, {"content": "Hello team"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["content"], body["created_by"]) == ("user", "Hello team", "viewer")
    assert Message.objects.get(pk=body["id"]).conversation == mine


def test_a_reply_joins_its_parents_thread(viewer_client, mine):
    root = MessageFactory(conversation=mine)
    first = post(viewer_client, mine, {"content": "a", "parent": root.pk}).json()

    second = post(viewer_client, mine, {"content": "b", "parent": first["id"]}).json()

    assert (second["parent"], second["thread_root"]) == (first["id"], root.pk)


def test_a_bot_message_names_its_agent_by_slug(viewer_client, mine):
    AgentFactory(slug="helper")

    response = post(
        viewer_client,
        mine,
        {"type": "bot", "content": "Done", "agent": "helper", "status": "error"},
    )

    assert response.status_code == 201, response.content
    assert (response.json()["agent"], response.json()["status"]) == ("helper", "error")


def test_a_parent_from_another_conversation_is_a_400(viewer_client, mine, viewer):
    elsewhere = MessageFactory(conversation=ConversationFactory(created_by=viewer))

    response = post(viewer_client, mine, {"content": "hi", "parent": elsewhere.pk})

    assert_envelope(response, 400, "foreign_message")
    assert not Message.objects.filter(conversation=mine).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "content"),
        ({"content": ""}, "content"),
        ({"content": 42}, "content"),
        ({"content": "x" * 100_001}, "content"),
        ({"content": "null \x00 byte"}, "content"),
        ({"content": "escape \x1b"}, "content"),
        ({"content": "hi", "type": "system"}, "type"),
        ({"content": "hi", "status": "done"}, "status"),
        ({"content": "hi", "agent": "nobody"}, "agent"),
        ({"content": "hi", "parent": 999999}, "parent"),
        ({"content": "hi", "parent": "x"}, "parent"),
    ],
)
def test_bad_messages_are_a_400(viewer_client, mine, payload, field):
    error = assert_envelope(post(viewer_client, mine, payload), 400, "validation_error")

    assert field in error["details"]
    assert not Message.objects.exists()


def test_content_of_exactly_100000_characters_is_accepted(viewer_client, mine):
    assert post(viewer_client, mine, {"content": "x" * 100_000}).status_code == 201


def test_no_one_posts_in_another_users_conversation(viewer_client, theirs):
    assert_envelope(post(viewer_client, theirs, {"content": "hi"}), 404)
    assert not Message.objects.exists()


def test_staff_post_in_anyones_conversation(staff_client, theirs):
    assert post(staff_client, theirs, {"content": "moderator here"}).status_code == 201
