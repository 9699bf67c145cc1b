from __future__ import annotations

import factory

from apps.runs.models import Run
from tests.factories.agents import AgentFactory


class RunFactory(factory.django.DjangoModelFactory):
    """A run row as run_start would leave it, without its events: tests emit those."""

    class Meta:
        model = Run

    agent = factory.SubFactory(AgentFactory)
    input = "task"
    cwd = "/srv"
    model = "gpt-4o-mini"
    max_steps = 5
    timeout_seconds = 60
