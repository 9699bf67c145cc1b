import pytest

from tests.envelope import assert_envelope
from tests.factories import AgentInstanceFactory, ConversationFactory

pytestmark = pytest.mark.django_db


def put(client, conversation, instance):
    return client.put(
        f"/api/conversations/{conversation.pk}/active-agent/", {"instance": instance}, format="json"
    )


def test_the_owner_picks_one_of_the_conversations_instances(viewer_client, mine):
    instance = AgentInstanceFactory(conversation=mine)

    response = put(viewer_client, mine, instance.pk)

    assert response.status_code == 200, response.content
    assert response.json()["active_agent"] == instance.pk
    mine.refresh_from_db()
    assert mine.active_agent == instance


def test_null_clears_the_active_agent(viewer_client, mine):
    mine.active_agent = AgentInstanceFactory(conversation=mine)
    mine.save()

    response = put(viewer_client, mine, None)

    assert response.json()["active_agent"] is None


def test_an_instance_of_another_conversation_is_a_400(viewer_client, mine):
    foreign = AgentInstanceFactory(conversation=ConversationFactory())

    error = assert_envelope(put(viewer_client, mine, foreign.pk), 400, "foreign_instance")

    assert error["details"] == {"instance": foreign.pk}
    mine.refresh_from_db()
    assert mine.active_agent is None


@pytest.mark.parametrize("payload", [{}, {"instance": 999999}, {"instance": "x"}])
def test_a_missing_or_unknown_instance_is_a_400(viewer_client, mine, payload):
    response = viewer_client.put(
        f"/api/conversations/{mine.pk}/active-agent/", payload, format="json"
    )

    assert_envelope(response, 400, "validation_error")


def test_another_users_conversation_is_not_found(viewer_client, theirs):
    instance = AgentInstanceFactory(conversation=theirs)

    assert_envelope(put(viewer_client, theirs, instance.pk), 404)
