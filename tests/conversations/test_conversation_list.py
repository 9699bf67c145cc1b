import pytest

from tests.envelope import assert_envelope
from tests.factories import ConversationFactory, ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/conversations/"


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["title"] for row in response.json()["results"]]


def test_a_user_lists_only_their_own_conversations(viewer_client, mine, theirs):
    assert titles(viewer_client.get(URL)) == ["Mine"]


def test_staff_list_every_conversation(staff_client, mine, theirs):
    assert sorted(titles(staff_client.get(URL))) == ["Mine", "Theirs"]


def test_the_list_is_paginated(viewer_client, viewer):
    for _ in range(3):
        ConversationFactory(created_by=viewer)

    body = viewer_client.get(URL, {"page_size": 2}).json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert body["previous"] is None


def test_it_filters_by_screenplay(viewer_client, viewer):
    screenplay = ScreenplayFactory()
    ConversationFactory(created_by=viewer, screenplay=screenplay, title="In it")
    ConversationFactory(created_by=viewer, title="Elsewhere")

    assert titles(viewer_client.get(URL, {"screenplay": screenplay.pk})) == ["In it"]


def test_it_searches_titles(viewer_client, viewer):
    ConversationFactory(created_by=viewer, title="Release planning")
    ConversationFactory(created_by=viewer, title="Bug triage")

    assert titles(viewer_client.get(URL, {"search": "release"})) == ["Release planning"]


def test_it_orders_by_display_order_by_default_and_on_request(viewer_client, viewer):
    ConversationFactory(created_by=viewer, title="second", display_order=2)
    ConversationFactory(created_by=viewer, title="first", display_order=1)

    assert titles(viewer_client.get(URL)) == ["first", "second"]
    assert titles(viewer_client.get(URL, {"ordering": "-display_order"})) == ["second", "first"]
    assert titles(viewer_client.get(URL, {"ordering": "created_at"})) == ["second", "first"]


def test_a_row_shows_participants_owner_and_message_count(viewer_client, mine):
    from tests.factories import AgentFactory, AgentInstanceFactory, MessageFactory

    agent = AgentFactory(slug="writer", name="Writer", emoji="✍️")
    instance = AgentInstanceFactory(conversation=mine, agent=agent)
    AgentInstanceFactory(conversation=mine, is_deleted=True)
    MessageFactory(conversation=mine)
    MessageFactory(conversation=mine, is_hidden=True)
    MessageFactory(conversation=mine, is_deleted=True)

    row = viewer_client.get(URL).json()["results"][0]

    assert row["participants"] == [
        {"id": instance.pk, "agent_slug": "writer", "agent_name": "Writer", "agent_emoji": "✍️"}
    ]
    assert row["created_by"] == "viewer"
    assert row["message_count"] == 2
    assert row["max_chain_depth"] == 3
    assert row["is_deleted"] is False


def test_deleted_conversations_are_hidden_from_the_list(viewer_client, viewer):
    ConversationFactory(created_by=viewer, title="gone", is_deleted=True)

    assert titles(viewer_client.get(URL)) == []


def test_staff_list_deleted_rows_with_include_deleted(staff_client, viewer):
    ConversationFactory(created_by=viewer, title="gone", is_deleted=True)

    rows = staff_client.get(URL, {"include_deleted": "true"}).json()["results"]

    assert [(row["title"], row["is_deleted"]) for row in rows] == [("gone", True)]


def test_include_deleted_is_refused_to_non_staff(viewer_client, mine):
    assert_envelope(viewer_client.get(URL, {"include_deleted": "true"}), 403, "permission_denied")
