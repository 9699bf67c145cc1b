from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import PermissionDenied

from apps.conversations.models import Conversation, Message, MessageType
from apps.conversations.services import (
    conversation_messages_clear,
    conversation_messages_clear_for_agent,
    message_restore,
)
from tests.factories import (
    AgentFactory,
    AgentInstanceFactory,
    ConversationFactory,
    MessageFactory,
    RunFactory,
)

pytestmark = pytest.mark.django_db


def alive(messages) -> set[int]:
    return set(Message.objects.filter(pk__in=[m.pk for m in messages]).values_list("pk", flat=True))


def pks(messages) -> set[int]:
    return {message.pk for message in messages}


@pytest.fixture
def scene(viewer, other_user):
    """The viewer's conversations with the agent "solo", alone or with "peer", and others'."""
    solo, peer = AgentFactory(slug="solo"), AgentFactory(slug="peer")

    dedicated = ConversationFactory(created_by=viewer, title="solo only")
    dedicated.active_agent = AgentInstanceFactory(agent=solo, conversation=dedicated)
    dedicated.save()
    dedicated_messages = [
        MessageFactory(conversation=dedicated, type=MessageType.USER),
        MessageFactory(conversation=dedicated, type=MessageType.BOT, agent=solo),
        MessageFactory(conversation=dedicated, type=MessageType.BOT, agent=peer),
    ]

    shared = ConversationFactory(created_by=viewer, title="solo and peer")
    AgentInstanceFactory(agent=solo, conversation=shared)
    AgentInstanceFactory(agent=peer, conversation=shared)
    run = RunFactory(agent=solo, conversation=shared, input="hi", created_by=viewer)
    solos_in_shared = [
        MessageFactory(conversation=shared, type=MessageType.USER, run=run),
        MessageFactory(conversation=shared, type=MessageType.BOT, agent=solo, run=run),
    ]
    others_in_shared = [
        MessageFactory(conversation=shared, type=MessageType.USER),
        MessageFactory(conversation=shared, type=MessageType.BOT, agent=peer),
    ]

    peers_only = ConversationFactory(created_by=viewer, title="peer only")
    AgentInstanceFactory(agent=peer, conversation=peers_only)
    peers_messages = [MessageFactory(conversation=peers_only, agent=peer)]

    theirs = ConversationFactory(created_by=other_user, title="theirs")
    AgentInstanceFactory(agent=solo, conversation=theirs)
    their_messages = [
        MessageFactory(conversation=theirs),
        MessageFactory(conversation=theirs, agent=solo, type=MessageType.BOT),
    ]
    return SimpleNamespace(
        solo=solo,
        peer=peer,
        dedicated=dedicated,
        dedicated_messages=dedicated_messages,
        shared=shared,
        solos_in_shared=solos_in_shared,
        others_in_shared=others_in_shared,
        peers_messages=peers_messages,
        theirs=theirs,
        their_messages=their_messages,
    )


def test_it_clears_the_agents_conversations_and_its_messages_elsewhere(scene, viewer):
    cleared = conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)

    assert cleared == 3 + 2
    assert alive(scene.dedicated_messages) == set()
    assert alive(scene.solos_in_shared) == set()


def test_other_agents_and_the_users_messages_in_shared_conversations_stay(scene, viewer):
    conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)

    assert alive(scene.others_in_shared) == pks(scene.others_in_shared)
    assert alive(scene.peers_messages) == pks(scene.peers_messages)
    assert Conversation.objects.filter(pk=scene.dedicated.pk).exists()


def test_a_user_clears_only_the_conversations_they_own(scene, viewer):
    conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)

    assert alive(scene.their_messages) == pks(scene.their_messages)


def test_someone_else_clears_nothing_of_the_viewers(scene, other_user):
    cleared = conversation_messages_clear_for_agent(agent=scene.solo, actor=other_user)

    assert cleared == 2
    assert alive(scene.their_messages) == set()
    assert alive(scene.dedicated_messages) == pks(scene.dedicated_messages)
    assert alive(scene.solos_in_shared) == pks(scene.solos_in_shared)


def test_staff_clear_the_agents_history_in_every_conversation(scene, staff):
    cleared = conversation_messages_clear_for_agent(agent=scene.solo, actor=staff)

    assert cleared == 3 + 2 + 2
    assert alive(scene.others_in_shared) == pks(scene.others_in_shared)


def test_clearing_twice_finds_nothing_the_second_time(scene, viewer):
    conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)

    assert conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer) == 0


def test_the_messages_are_soft_deleted_as_one_batch_that_restores_together(scene, viewer):
    conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)
    cleared = Message.all_objects.filter(pk__in=pks(scene.dedicated_messages))

    assert {m.deletion_reason for m in cleared} == {"history of agent solo cleared"}
    assert len({m.deletion_batch for m in cleared}) == 1

    message_restore(message=cleared.first(), actor=viewer)

    assert alive(scene.dedicated_messages + scene.solos_in_shared) == pks(
        scene.dedicated_messages + scene.solos_in_shared
    )


def test_a_conversation_whose_active_agent_is_another_agents_is_not_the_agents(scene, viewer):
    scene.dedicated.active_agent = AgentInstanceFactory(
        agent=scene.peer, conversation=scene.dedicated
    )
    scene.dedicated.save()

    conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)

    solos_own = scene.dedicated_messages[1]
    assert alive(scene.dedicated_messages) == pks(scene.dedicated_messages) - {solos_own.pk}


def test_a_deleted_participant_no_longer_shares_the_conversation(scene, viewer):
    from apps.instances.services import instance_soft_delete

    peer_instance = scene.shared.instances.get(agent=scene.peer)
    instance_soft_delete(instance=peer_instance, actor=viewer)

    conversation_messages_clear_for_agent(agent=scene.solo, actor=viewer)

    assert alive(scene.others_in_shared) == set()


def test_an_agent_without_history_clears_nothing(scene, viewer):
    assert conversation_messages_clear_for_agent(agent=AgentFactory(), actor=viewer) == 0


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_clearing_needs_a_user(scene, actor):
    with pytest.raises(PermissionDenied, match="Sign in"):
        conversation_messages_clear_for_agent(agent=scene.solo, actor=actor)

    assert alive(scene.dedicated_messages) == pks(scene.dedicated_messages)


def test_clearing_one_conversation_deletes_all_its_messages(scene, viewer):
    cleared = conversation_messages_clear(conversation=scene.shared, actor=viewer)

    assert cleared == 4
    assert not Message.objects.filter(conversation=scene.shared).exists()


def test_clearing_someone_elses_conversation_is_refused(scene, viewer):
    with pytest.raises(PermissionDenied):
        conversation_messages_clear(conversation=scene.theirs, actor=viewer)

    assert alive(scene.their_messages) == pks(scene.their_messages)
