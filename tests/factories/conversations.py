from __future__ import annotations

import factory

from apps.conversations.models import Conversation, Message, MessageType
from apps.instances.models import AgentInstance
from tests.factories.agents import AgentFactory
from tests.factories.screenplays import ScreenplayFactory
from tests.factories.users import UserFactory


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    title = factory.Sequence(lambda n: f"Conversation {n}")
    screenplay = factory.SubFactory(ScreenplayFactory)
    created_by = factory.SubFactory(UserFactory)


class AgentInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentInstance

    agent = factory.SubFactory(AgentFactory)
    conversation = factory.SubFactory(ConversationFactory)
    screenplay = factory.LazyAttribute(lambda instance: instance.conversation.screenplay)
    display_order = factory.Sequence(int)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    type = MessageType.USER
    content = factory.Sequence(lambda n: f"message {n}")
