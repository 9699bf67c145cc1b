from __future__ import annotations

import factory

from apps.agents.models import Agent


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"agent_{n}")
    name = factory.Sequence(lambda n: f"Agent {n}")
    emoji = "🤖"
    description = "Does agent things for the team."
    group = "general"
    tags = factory.LazyFunction(list)
    persona = None
    model = "gpt-4o-mini"
    tools = factory.LazyFunction(list)
    mcp_configs = factory.LazyFunction(dict)
