import pytest

from apps.personas.models import Persona
from tests.factories import AgentFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db


def make_agents(count: int) -> None:
    for _ in range(count):
        persona = Persona.objects.create(name=f"persona {Persona.objects.count()}")
        AgentFactory(persona=persona)


def test_the_agent_list_costs_the_same_queries_for_1_or_50_agents(viewer_client):
    assert_constant_queries(lambda: viewer_client.get("/api/agents/?page_size=100"), make_agents)


def test_the_admin_changelist_costs_the_same_queries_for_1_or_50_agents(client, staff):
    client.force_login(staff)

    assert_constant_queries(lambda: client.get("/admin/agents/agent/"), make_agents)
