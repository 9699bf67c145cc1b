import pytest

from apps.conversations.models import Message
from tests.envelope import assert_envelope
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(mine):
    return MessageFactory(conversation=mine)


def url(message, verb: str = "") -> str:
    base = f"/api/conversations/{message.conversation_id}/messages/{message.pk}/"
    return f"{base}{verb}/" if verb else base


def hidden(message) -> bool:
    return Message.all_objects.get(pk=message.pk).is_hidden


def test_the_owner_reads_one_message(viewer_client, message):
    assert viewer_client.get(url(message)).json()["id"] == message.pk


def test_hide_and_unhide(viewer_client, message):
    response = viewer_client.post(url(message, "hide"))
    assert response.status_code == 200
    assert response.json()["is_hidden"] is True
    assert hidden(message)

    response = viewer_client.post(url(message, "unhide"))
    assert response.json()["is_hidden"] is False
    assert not hidden(message)


def test_hiding_twice_stays_hidden(viewer_client, message):
    viewer_client.post(url(message, "hide"))
    viewer_client.post(url(message, "hide"))

    assert hidden(message)


def test_toggle_flips_is_hidden(viewer_client, message):
    assert viewer_client.post(url(message, "toggle")).json()["is_hidden"] is True
    assert viewer_client.post(url(message, "toggle")).json()["is_hidden"] is False


def test_delete_is_a_soft_delete(viewer_client, message):
    response = viewer_client.delete(url(message))

    assert response.status_code == 204
    assert Message.all_objects.get(pk=message.pk).is_deleted
    assert_envelope(viewer_client.get(url(message)), 404)
    assert (
        viewer_client.get(f"/api/conversations/{message.conversation_id}/messages/").json()["count"]
        == 0
    )


def test_a_message_of_another_conversation_in_the_url_is_not_found(viewer_client, mine, viewer):
    elsewhere = MessageFactory(conversation=ConversationFactory(created_by=viewer))
    base = f"/api/conversations/{mine.pk}/messages/{elsewhere.pk}/"

    assert_envelope(viewer_client.get(base), 404)
    assert_envelope(viewer_client.post(f"{base}hide/"), 404)
    assert_envelope(viewer_client.post(f"{base}toggle/"), 404)
    assert_envelope(viewer_client.delete(base), 404)
    assert not Message.all_objects.get(pk=elsewhere.pk).is_hidden
    assert not Message.all_objects.get(pk=elsewhere.pk).is_deleted


def test_another_users_messages_cannot_be_hidden_or_deleted(viewer_client, theirs):
    message = MessageFactory(conversation=theirs)

    for verb in ("hide", "unhide", "toggle"):
        assert_envelope(viewer_client.post(url(message, verb)), 404)
    assert_envelope(viewer_client.delete(url(message)), 404)
    assert not hidden(message)
    assert not Message.all_objects.get(pk=message.pk).is_deleted


def test_staff_hide_messages_in_anyones_conversation(staff_client, theirs):
    message = MessageFactory(conversation=theirs)

    assert staff_client.post(url(message, "hide")).status_code == 200
    assert hidden(message)


def test_an_unknown_message_is_not_found(viewer_client, mine):
    assert_envelope(viewer_client.post(f"/api/conversations/{mine.pk}/messages/999999/hide/"), 404)
