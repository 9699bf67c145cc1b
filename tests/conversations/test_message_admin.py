import pytest

from apps.conversations.models import Message
from tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/conversations/message/"


def run_action(client, action: str, messages):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [m.pk for m in messages]}, follow=True
    )


def test_hide_unhide_and_soft_delete_actions(editor_admin):
    message = MessageFactory()

    run_action(editor_admin, "hide_selected", [message])
    assert Message.objects.get(pk=message.pk).is_hidden
    run_action(editor_admin, "unhide_selected", [message])
    assert not Message.objects.get(pk=message.pk).is_hidden
    run_action(editor_admin, "soft_delete_selected", [message])
    assert Message.all_objects.get(pk=message.pk).is_deleted
    run_action(editor_admin, "restore_selected", [message])
    assert not Message.all_objects.get(pk=message.pk).is_deleted


def test_the_changelist_searches_content_and_filters(editor_admin):
    MessageFactory(content="needle in here", type="bot")
    MessageFactory(content="haystack", is_hidden=True)
    MessageFactory(content="buried", is_deleted=True)

    searched = editor_admin.get(CHANGELIST, {"q": "needle"}).content.decode()
    hidden = editor_admin.get(CHANGELIST, {"is_hidden__exact": "1"}).content.decode()
    deleted = editor_admin.get(CHANGELIST, {"is_deleted__exact": "1"}).content.decode()
    bots = editor_admin.get(CHANGELIST, {"type__exact": "bot"}).content.decode()

    assert "needle" in searched
    assert "haystack" not in searched
    assert "haystack" in hidden
    assert "needle" not in hidden
    assert "buried" in deleted
    assert "needle" not in deleted
    assert "needle" in bots
    assert "haystack" not in bots


def test_an_editor_adds_a_reply_through_the_service(editor_admin, editor):
    root = MessageFactory()

    response = editor_admin.post(
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


def test_a_parent_from_another_conversation_is_a_form_error(editor_admin):
    elsewhere = MessageFactory()

    response = editor_admin.post(
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


def test_only_is_hidden_changes_on_a_posted_message(editor_admin):
    message = MessageFactory(content="original")

    response = editor_admin.post(
        f"{CHANGELIST}{message.pk}/change/", {"content": "rewritten", "is_hidden": "on"}
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    message.refresh_from_db()
    assert (message.content, message.is_hidden) == ("original", True)


def test_an_editor_cannot_hard_delete_a_message(editor_admin):
    message = MessageFactory()

    response = editor_admin.post(f"{CHANGELIST}{message.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Message.all_objects.filter(pk=message.pk).exists()
