from types import SimpleNamespace

import pytest

from apps.conversations import services as conversation_services
from apps.conversations.models import Conversation, Message
from apps.instances.models import AgentInstance
from apps.screenplays import services as screenplay_services
from apps.screenplays.models import Screenplay
from tests.factories import (
    AgentInstanceFactory,
    ConversationFactory,
    MessageFactory,
    ScreenplayFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    """A screenplay with two conversations, each with messages and instances."""
    screenplay = ScreenplayFactory()
    talks = [ConversationFactory(screenplay=screenplay) for _ in range(2)]
    messages = [MessageFactory(conversation=talk) for talk in talks for _ in range(3)]
    instances = [AgentInstanceFactory(conversation=talk) for talk in talks]
    loose_instance = AgentInstanceFactory(screenplay=screenplay, conversation=None)
    return SimpleNamespace(
        screenplay=screenplay,
        talks=talks,
        messages=messages,
        instances=[*instances, loose_instance],
    )


def alive_counts() -> tuple[int, int, int, int]:
    return (
        Screenplay.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        AgentInstance.objects.count(),
    )


def test_deleting_a_screenplay_takes_down_its_conversations_messages_and_instances(scene):

    batch = screenplay_services.screenplay_soft_delete(screenplay=scene.screenplay)

    assert alive_counts() == (0, 0, 0, 0)
    rows = [
        *Conversation.all_objects.all(),
        *Message.all_objects.all(),
        *AgentInstance.all_objects.all(),
    ]
    assert len(rows) == 2 + 6 + 3
    assert {row.deletion_batch for row in rows} == {batch}
    assert {row.deletion_reason for row in rows} == {f"screenplay {scene.screenplay.pk} deleted"}


def test_restoring_the_screenplay_undoes_exactly_that_cascade(scene):
    # Deleted on their own before the screenplay: they must stay deleted.
    conversation_services.message_soft_delete(message=scene.messages[0], actor=None)
    conversation_services.conversation_soft_delete(conversation=scene.talks[1], actor=None)
    before = alive_counts()

    screenplay_services.screenplay_soft_delete(screenplay=scene.screenplay)
    screenplay_services.screenplay_restore(
        screenplay=Screenplay.all_objects.get(pk=scene.screenplay.pk)
    )

    assert alive_counts() == before == (1, 1, 2, 2)
    assert Message.all_objects.get(pk=scene.messages[0].pk).is_deleted
    assert not Conversation.objects.filter(pk=scene.talks[1].pk).exists()
    assert Conversation.all_objects.get(pk=scene.talks[1].pk).deletion_reason == ""
    still_down = Message.all_objects.filter(conversation=scene.talks[1], is_deleted=True).count()
    assert still_down == 3
    assert {
        row.deletion_reason for row in Message.all_objects.filter(conversation=scene.talks[1])
    } == {f"conversation {scene.talks[1].pk} deleted"}


def test_deleting_a_conversation_takes_down_its_messages_and_instances_only(scene):

    conversation_services.conversation_soft_delete(conversation=scene.talks[0], actor=None)

    assert Message.objects.filter(conversation=scene.talks[0]).count() == 0
    assert AgentInstance.objects.filter(conversation=scene.talks[0]).count() == 0
    assert Message.objects.filter(conversation=scene.talks[1]).count() == 3
    assert Screenplay.objects.filter(pk=scene.screenplay.pk).exists()


def test_restoring_a_conversation_brings_back_its_messages_and_instances(scene):
    conversation_services.conversation_soft_delete(conversation=scene.talks[0], actor=None)

    conversation_services.conversation_restore(
        conversation=Conversation.all_objects.get(pk=scene.talks[0].pk), actor=None
    )

    assert Message.objects.filter(conversation=scene.talks[0]).count() == 3
    assert AgentInstance.objects.filter(conversation=scene.talks[0]).count() == 1


def test_a_soft_delete_is_one_transaction(scene, monkeypatch):
    from apps.core import soft_delete

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(soft_delete, "_mark", fail)

    with pytest.raises(RuntimeError):
        screenplay_services.screenplay_soft_delete(screenplay=scene.screenplay)

    assert alive_counts() == (1, 2, 6, 3)


def test_a_conversation_taken_down_by_its_screenplay_cannot_be_restored_alone(scene):
    from apps.core.soft_delete import ParentDeleted

    screenplay_services.screenplay_soft_delete(screenplay=scene.screenplay)
    talk = Conversation.all_objects.get(pk=scene.talks[0].pk)

    with pytest.raises(ParentDeleted) as raised:
        conversation_services.conversation_restore(conversation=talk, actor=None)

    assert raised.value.details == {"deleted": ["screenplay"]}
    assert alive_counts() == (0, 0, 0, 0)
