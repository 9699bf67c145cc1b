from datetime import timedelta

import pytest
from django.utils import timezone

from apps.conversations.services import message_create
from tests.envelope import assert_envelope
from tests.factories import AgentFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def url(conversation) -> str:
    return f"/api/conversations/{conversation.pk}/messages/"


def contents(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [message["content"] for message in response.json()["results"]]


def test_messages_come_oldest_first(viewer_client, mine):
    now = timezone.now()
    MessageFactory(conversation=mine, content="second", created_at=now)
    MessageFactory(conversation=mine, content="first", created_at=now - timedelta(minutes=1))

    assert contents(viewer_client.get(url(mine))) == ["first", "second"]


def test_a_message_shows_its_fields(viewer_client, mine, viewer):
    agent = AgentFactory(slug="helper")
    root = message_create(conversation=mine, actor=viewer, type="user", content="hi")
    message_create(
        conversation=mine, actor=None, parent=root, type="bot", content="hello", agent=agent
    )

    reply = viewer_client.get(url(mine)).json()["results"][1]

    assert reply["type"] == "bot"
    assert reply["status"] == "completed"
    assert reply["agent"] == "helper"
    assert reply["created_by"] is None
    assert (reply["parent"], reply["thread_root"]) == (root.pk, root.pk)
    assert reply["is_hidden"] is False
    assert reply["is_deleted"] is False
    assert "run" not in reply


def test_the_list_is_paginated(viewer_client, mine):
    MessageFactory.create_batch(3, conversation=mine)

    body = viewer_client.get(url(mine), {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_a_thread_is_its_root_and_every_reply(viewer_client, mine, viewer):
    root = message_create(conversation=mine, actor=viewer, type="user", content="root")
    reply = message_create(conversation=mine, actor=viewer, parent=root, type="bot", content="a")
    message_create(conversation=mine, actor=viewer, parent=reply, type="bot", content="b")
    message_create(conversation=mine, actor=viewer, type="user", content="other thread")

    assert contents(viewer_client.get(url(mine), {"thread": reply.pk})) == ["root", "a", "b"]
    assert contents(viewer_client.get(url(mine), {"thread": root.pk})) == ["root", "a", "b"]


@pytest.mark.parametrize("thread", ["999999", "x", "-1", "1" * 30])
def test_an_unknown_thread_is_a_400(viewer_client, mine, thread):
    error = assert_envelope(viewer_client.get(url(mine), {"thread": thread}), 400)

    assert "thread" in error["details"]


def test_a_thread_of_another_conversation_is_a_400(viewer_client, mine, viewer):
    elsewhere = MessageFactory(conversation=ConversationFactory(created_by=viewer))

    response = viewer_client.get(url(mine), {"thread": elsewhere.pk})

    assert_envelope(response, 400, "validation_error")


def test_hidden_messages_are_listed_and_flagged(viewer_client, mine):
    MessageFactory(conversation=mine, content="shown")
    MessageFactory(conversation=mine, content="hidden", is_hidden=True)

    rows = viewer_client.get(url(mine)).json()["results"]

    assert [(row["content"], row["is_hidden"]) for row in rows] == [
        ("shown", False),
        ("hidden", True),
    ]


def test_include_hidden_false_leaves_hidden_messages_out(viewer_client, mine):
    MessageFactory(conversation=mine, content="shown")
    MessageFactory(conversation=mine, content="hidden", is_hidden=True)

    assert contents(viewer_client.get(url(mine), {"include_hidden": "false"})) == ["shown"]


def test_a_bad_include_hidden_is_a_400(viewer_client, mine):
    assert_envelope(viewer_client.get(url(mine), {"include_hidden": "perhaps"}), 400)


def test_deleted_messages_are_left_out_unless_staff_ask(viewer_client, staff_client, mine):
    MessageFactory(conversation=mine, content="alive")
    MessageFactory(conversation=mine, content="gone", is_deleted=True)

    assert contents(viewer_client.get(url(mine))) == ["alive"]
    assert contents(staff_client.get(url(mine), {"include_deleted": "true"})) == ["alive", "gone"]
    assert_envelope(viewer_client.get(url(mine), {"include_deleted": "true"}), 403)


def test_another_users_messages_are_not_found(viewer_client, theirs):
    MessageFactory(conversation=theirs)

    assert_envelope(viewer_client.get(url(theirs)), 404, "not_found")


def test_an_unknown_conversation_is_not_found(viewer_client):
    assert_envelope(viewer_client.get("/api/conversations/999999/messages/"), 404)
