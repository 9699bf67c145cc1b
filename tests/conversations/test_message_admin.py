import pytest

from apps.conversations.models import Message
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/conversations/message/"


@pytest.fixture
def admin_client(client, editor):
    client.force_login(editor)
    return client


def run_action(client, action: str, messages):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [m.pk for m in messages]}, follow=True
    )


def test_hide_unhide_and_soft_delete_actions(admin_client):
    message = MessageFactory()

    run_action(admin_client, "hide_selected", [message])
    assert Message.objects.get(pk=message.pk).is_hidden
    run_action(admin_client, "unhide_selected", [message])
    assert not Message.objects.get(pk=message.pk).is_hidden
    run_action(admin_client, "soft_delete_selected", [message])
    assert Message.all_objects.get(pk=message.pk).is_deleted
    run_action(admin_client, "restore_selected", [message])
    assert not Message.all_objects.get(pk=message.pk).is_deleted


def test_the_changelist_searches_content_and_filters(admin_client):
    MessageFactory(content="needle in here", type="bot")
    MessageFactory(content="haystack", is_hidden=True)
    MessageFactory(content="buried", is_deleted=True)

    searched = admin_client.get(CHANGELIST, {"q": "needle"}).content.decode()
    hidden = admin_client.get(CHANGELIST, {"is_hidden__exact": "1"}).content.decode()
    deleted = admin_client.get(CHANGELIST, {"is_deleted__exact": "1"}).content.decode()
    bots = admin_client.get(CHANGELIST, {"type__exact": "bot"}).content.decode()

    assert "needle" in searched
    assert "haystack" not in searched
    assert "haystack" in hidden
    assert "needle" not in hidden
    assert "buried" in deleted
    assert "needle" not in deleted
    assert "needle" in bots
    assert "haystack" not in bots


def test_an_editor_adds_a_reply_through_the_service(admin_client, editor):
    root = MessageFactory()

    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "conversation": root.conversation_id,
            "type": "bot",
            "content": "An answer",
            "status": "completed",
            "parent": root.pk,
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    reply = Message.objects.get(content="An answer")
    assert (reply.thread_root, reply.created_by) == (root, editor)


def test_a_parent_from_another_conversation_is_a_form_error(admin_client):
    elsewhere = MessageFactory()

    response = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "conversation": ConversationFactory().pk,
            "type": "user",
            "content": "Hi",
            "status": "completed",
            "parent": elsewhere.pk,
        },
    )

    assert response.status_code == 200
    assert "another conversation" in response.content.decode()
    assert not Message.objects.filter(content="Hi").exists()


def test_only_is_hidden_changes_on_a_posted_message(admin_client):
    message = MessageFactory(content="original")

    response = admin_client.post(
        f"{CHANGELIST}{message.pk}/change/", {"content": "rewritten", "is_hidden": "on"}
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    message.refresh_from_db()
    assert (message.content, message.is_hidden) == ("original", True)


def test_an_editor_cannot_hard_delete_a_message(admin_client):
    message = MessageFactory()

    response = admin_client.post(f"{CHANGELIST}{message.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Message.all_objects.filter(pk=message.pk).exists()
