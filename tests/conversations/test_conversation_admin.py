import pytest

from apps.conversations.models import Conversation, Message
from apps.conversations.services import message_create
from apps.instances.models import AgentInstance
from tests.factories import AgentInstanceFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/conversations/conversation/"


def run_action(client, action: str, conversations):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [c.pk for c in conversations]},
        follow=True,
    )


def form_data(conversation=None, **overrides) -> dict:
    data = {
        "title": "From the admin",
        "context": "",
        "screenplay": "",
        "max_chain_depth": "3",
        "display_order": "0",
        "instances-TOTAL_FORMS": "0",
        "instances-INITIAL_FORMS": "0",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
    }
    if conversation is not None:
        data["active_agent"] = ""
    return {**data, **overrides}


def test_an_editor_adds_a_conversation_they_own(editor_admin, editor):
    response = editor_admin.post(f"{CHANGELIST}add/", form_data())

    assert response.status_code == 302, response.content.decode()[:3000]
    created = Conversation.objects.get(title="From the admin")
    assert (created.created_by, created.display_order) == (editor, 0)


def test_a_bad_max_chain_depth_is_a_form_error(editor_admin):
    response = editor_admin.post(f"{CHANGELIST}add/", form_data(max_chain_depth="11"))

    assert response.status_code == 200
    assert "less than or equal to 10" in response.content.decode()
    assert not Conversation.objects.exists()


def test_an_editor_changes_title_and_active_agent(editor_admin):
    conversation = ConversationFactory()
    instance = AgentInstanceFactory(conversation=conversation)

    response = editor_admin.post(
        f"{CHANGELIST}{conversation.pk}/change/",
        form_data(conversation, title="Renamed", active_agent=str(instance.pk)),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    conversation.refresh_from_db()
    assert (conversation.title, conversation.active_agent) == ("Renamed", instance)


def test_an_instance_of_another_conversation_is_not_a_choice(editor_admin):
    conversation = ConversationFactory()
    foreign = AgentInstanceFactory(conversation=ConversationFactory())

    response = editor_admin.post(
        f"{CHANGELIST}{conversation.pk}/change/",
        form_data(conversation, active_agent=str(foreign.pk)),
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.active_agent is None


def test_the_change_page_shows_threads_together_and_the_instances(editor_admin, viewer):
    conversation = ConversationFactory(created_by=viewer)
    AgentInstanceFactory(conversation=conversation, agent__name="Scribe")
    first = message_create(conversation=conversation, actor=viewer, type="user", content="Q one")
    message_create(conversation=conversation, actor=viewer, type="user", content="Q two")
    message_create(
        conversation=conversation, actor=viewer, parent=first, type="bot", content="A one"
    )

    page = editor_admin.get(f"{CHANGELIST}{conversation.pk}/change/").content.decode()

    assert page.index("Q one") < page.index("A one") < page.index("Q two")
    assert f"reply to #{first.pk}" in page
    assert "Scribe" in page


def test_the_inline_unhides_a_message(editor_admin):
    conversation = ConversationFactory()
    message = MessageFactory(conversation=conversation, is_hidden=True)
    data = form_data(
        conversation,
        title=conversation.title,
        **{
            "messages-TOTAL_FORMS": "1",
            "messages-INITIAL_FORMS": "1",
            "messages-0-id": str(message.pk),
            "messages-0-conversation": str(conversation.pk),
        },
    )

    response = editor_admin.post(f"{CHANGELIST}{conversation.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Message.objects.get(pk=message.pk).is_hidden


def test_the_changelist_shows_deleted_rows_behind_the_filter(editor_admin):
    ConversationFactory(title="Alive")
    ConversationFactory(title="Buried", is_deleted=True)

    everything = editor_admin.get(CHANGELIST).content.decode()
    deleted = editor_admin.get(CHANGELIST, {"is_deleted__exact": "1"}).content.decode()

    assert "Alive" in everything
    assert "Buried" in everything
    assert "Buried" in deleted
    assert "Alive" not in deleted


def test_the_changelist_filters_and_searches(editor_admin):
    ConversationFactory(title="Delegating", auto_delegate=True)
    ConversationFactory(title="Manual")

    filtered = editor_admin.get(CHANGELIST, {"auto_delegate__exact": "1"}).content.decode()
    searched = editor_admin.get(CHANGELIST, {"q": "manual"}).content.decode()

    assert "Delegating" in filtered
    assert "Manual" not in filtered
    assert "Manual" in searched
    assert "Delegating" not in searched


def test_soft_delete_and_restore_actions_cascade(editor_admin):
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation)
    AgentInstanceFactory(conversation=conversation)

    run_action(editor_admin, "soft_delete_selected", [conversation])
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not AgentInstance.objects.exists()

    response = run_action(editor_admin, "restore_selected", [conversation])
    assert "Restored 1 conversations." in response.content.decode()
    assert Conversation.objects.count() == Message.objects.count() == 1
    assert AgentInstance.objects.count() == 1


def test_the_clone_action_copies_messages_and_instances(editor_admin, editor):
    conversation = ConversationFactory(title="Original")
    MessageFactory.create_batch(2, conversation=conversation)
    AgentInstanceFactory(conversation=conversation)

    run_action(editor_admin, "clone_selected", [conversation])

    copy = Conversation.objects.get(title="Original (copy)")
    assert copy.created_by == editor
    assert copy.messages.count() == 2
    assert copy.instances.count() == 1


def test_an_editor_cannot_hard_delete(editor_admin):
    conversation = ConversationFactory()

    changelist = editor_admin.get(CHANGELIST).content.decode()
    response = editor_admin.post(f"{CHANGELIST}{conversation.pk}/delete/", {"post": "yes"})

    assert "Hard delete" not in changelist
    assert response.status_code == 403
    assert Conversation.all_objects.filter(pk=conversation.pk).exists()


def test_a_superuser_hard_deletes_after_the_confirmation_page(client, staff):
    client.force_login(staff)
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation)
    AgentInstanceFactory(conversation=conversation)
    selected = {"action": "delete_selected", "_selected_action": [conversation.pk]}

    changelist = client.get(CHANGELIST).content.decode()
    confirmation = client.post(CHANGELIST, selected)
    client.post(CHANGELIST, {**selected, "post": "yes"})

    assert "Hard delete selected (permanent)" in changelist
    assert "Are you sure" in confirmation.content.decode()
    assert not Conversation.all_objects.exists()
    assert not Message.all_objects.exists()
    assert not AgentInstance.all_objects.exists()
