import pytest

from apps.conversations.models import Message
from apps.conversations.services import message_create
from tests.factories import (
    AgentFactory,
    AgentInstanceFactory,
    ConversationFactory,
    MessageFactory,
    ScreenplayFactory,
)
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db


def make_conversations(owner):
    def make(count: int) -> None:
        for _ in range(count):
            conversation = ConversationFactory(created_by=owner, screenplay=ScreenplayFactory())
            AgentInstanceFactory.create_batch(2, conversation=conversation)
            MessageFactory(conversation=conversation)
            conversation.active_agent = conversation.instances.first()
            conversation.save()

    return make


def make_messages(conversation, owner):
    agent = AgentFactory()

    def make(count: int) -> None:
        root = Message.objects.filter(conversation=conversation, parent=None).first()
        for _ in range(count):
            if root is None:
                root = message_create(
                    conversation=conversation, actor=owner, type="user", content="root"
                )
                continue
            message_create(
                conversation=conversation,
                actor=owner,
                parent=root,
                type="bot",
                content="reply",
                agent=agent,
            )

    return make


def test_the_conversation_list_costs_the_same_for_1_or_50_rows(viewer_client, viewer):
    assert_constant_queries(
        lambda: viewer_client.get("/api/conversations/?page_size=100"), make_conversations(viewer)
    )


def test_the_staff_list_with_deleted_rows_costs_the_same(staff_client, viewer):
    assert_constant_queries(
        lambda: staff_client.get("/api/conversations/?page_size=100&include_deleted=true"),
        make_conversations(viewer),
    )


def test_the_message_list_costs_the_same_for_1_or_50_rows(viewer_client, viewer, mine):
    assert_constant_queries(
        lambda: viewer_client.get(f"/api/conversations/{mine.pk}/messages/?page_size=100"),
        make_messages(mine, viewer),
    )


def test_a_thread_costs_the_same_for_1_or_50_messages(viewer_client, viewer, mine):
    root = message_create(conversation=mine, actor=viewer, type="user", content="root")

    assert_constant_queries(
        lambda: viewer_client.get(
            f"/api/conversations/{mine.pk}/messages/?page_size=100&thread={root.pk}"
        ),
        make_messages(mine, viewer),
    )
    assert Message.objects.filter(thread_root=root).count() == 50


def test_the_conversation_admin_changelist_costs_the_same_for_1_or_50_rows(client, staff, viewer):
    client.force_login(staff)

    assert_constant_queries(
        lambda: client.get("/admin/conversations/conversation/"), make_conversations(viewer)
    )


def test_the_message_admin_changelist_costs_the_same_for_1_or_50_rows(client, staff, viewer):
    client.force_login(staff)
    conversation = ConversationFactory(created_by=viewer)

    assert_constant_queries(
        lambda: client.get("/admin/conversations/message/"), make_messages(conversation, viewer)
    )
