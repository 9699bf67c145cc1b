import pytest

from apps.conversations.models import Conversation, Message
from apps.instances.models import AgentInstance
from tests.envelope import assert_envelope
from tests.factories import AgentInstanceFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(mine):
    MessageFactory.create_batch(2, conversation=mine)
    AgentInstanceFactory(conversation=mine)
    return mine


def test_delete_hides_the_conversation_its_messages_and_instances(viewer_client, populated):
    response = viewer_client.delete(f"/api/conversations/{populated.pk}/")

    assert response.status_code == 204
    assert viewer_client.get("/api/conversations/").json()["count"] == 0
    assert Conversation.all_objects.get(pk=populated.pk).is_deleted
    assert not Message.objects.filter(conversation=populated).exists()
    assert not AgentInstance.objects.filter(conversation=populated).exists()
    assert Message.all_objects.filter(conversation=populated).count() == 2


def test_a_deleted_conversations_messages_are_not_found(viewer_client, populated):
    viewer_client.delete(f"/api/conversations/{populated.pk}/")

    assert_envelope(viewer_client.get(f"/api/conversations/{populated.pk}/messages/"), 404)


def test_restore_brings_back_the_conversation_messages_and_instances(viewer_client, populated):
    viewer_client.delete(f"/api/conversations/{populated.pk}/")

    response = viewer_client.post(f"/api/conversations/{populated.pk}/restore/")

    assert response.status_code == 200, response.content
    assert response.json()["is_deleted"] is False
    assert response.json()["message_count"] == 2
    assert AgentInstance.objects.filter(conversation=populated).count() == 1


def test_restore_keeps_a_message_deleted_on_its_own_before(viewer_client, populated):
    lone = Message.objects.filter(conversation=populated).first()
    viewer_client.delete(f"/api/conversations/{populated.pk}/messages/{lone.pk}/")
    viewer_client.delete(f"/api/conversations/{populated.pk}/")

    viewer_client.post(f"/api/conversations/{populated.pk}/restore/")

    assert Message.all_objects.get(pk=lone.pk).is_deleted
    assert Message.objects.filter(conversation=populated).count() == 1


def test_restoring_an_alive_conversation_is_a_409(viewer_client, mine):
    response = viewer_client.post(f"/api/conversations/{mine.pk}/restore/")

    assert_envelope(response, 409, "conversation_not_deleted")


def test_another_users_conversation_cannot_be_deleted_or_restored(viewer_client, theirs):
    assert_envelope(viewer_client.delete(f"/api/conversations/{theirs.pk}/"), 404)
    Conversation.objects.filter(pk=theirs.pk).update(is_deleted=True)
    assert_envelope(viewer_client.post(f"/api/conversations/{theirs.pk}/restore/"), 404)
    assert Conversation.all_objects.get(pk=theirs.pk).is_deleted


def test_staff_delete_and_restore_anyones_conversation(staff_client, theirs):
    assert staff_client.delete(f"/api/conversations/{theirs.pk}/").status_code == 204
    assert staff_client.post(f"/api/conversations/{theirs.pk}/restore/").status_code == 200
