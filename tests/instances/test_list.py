from __future__ import annotations

import pytest

from apps.instances.models import InstanceStatus
from tests.factories import AgentFactory, AgentInstanceFactory, ConversationFactory
from tests.instances.helpers import URL, assert_envelope
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_paginated_and_ordered_by_display_order(viewer_client):
    conversation = ConversationFactory()
    third = AgentInstanceFactory(conversation=conversation, display_order=3)
    first = AgentInstanceFactory(conversation=conversation, display_order=1)
    second = AgentInstanceFactory(conversation=conversation, display_order=2)

    response = viewer_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert ids(response) == [first.pk, second.pk, third.pk]


def test_a_row_shows_the_agent_and_the_statistics(viewer_client):
    agent = AgentFactory(slug="reviewer", name="Reviewer", emoji="🧐")
    instance = AgentInstanceFactory(agent=agent, task_count=4, success_count=3, error_count=1)
    instance.total_duration_ms = 1000
    instance.save()

    row = viewer_client.get(URL).json()["results"][0]

    assert (row["agent"], row["agent_slug"], row["agent_name"], row["agent_emoji"]) == (
        agent.pk,
        "reviewer",
        "Reviewer",
        "🧐",
    )
    assert (row["screenplay"], row["conversation"]) == (
        instance.screenplay_id,
        instance.conversation_id,
    )
    assert row["task_count"] == 4
    assert row["success_rate"] == 0.75
    assert row["average_duration_ms"] == 250
    assert row["is_deleted"] is False


def test_it_filters_by_screenplay_conversation_agent_and_status(viewer_client):
    target = AgentInstanceFactory(status=InstanceStatus.RUNNING)
    other = AgentInstanceFactory()

    for query in (
        f"screenplay={target.screenplay_id}",
        f"conversation={target.conversation_id}",
        f"agent={target.agent_id}",
        f"agent_slug={target.agent.slug}",
        "status=running",
    ):
        response = viewer_client.get(f"{URL}?{query}")
        assert ids(response) == [target.pk], query
    assert other.pk in ids(viewer_client.get(f"{URL}?status=pending"))


def test_it_orders_by_a_chosen_field(viewer_client):
    conversation = ConversationFactory()
    low = AgentInstanceFactory(conversation=conversation, display_order=1)
    high = AgentInstanceFactory(conversation=conversation, display_order=2)

    response = viewer_client.get(f"{URL}?ordering=-display_order")

    assert ids(response) == [high.pk, low.pk]


@pytest.mark.parametrize(
    "query",
    [
        "screenplay=abc",
        "screenplay=1.5",
        "agent=-1",
        f"conversation={2**70}",
        "status=sleeping",
        "page=999",
    ],
)
def test_a_bad_filter_is_a_4xx_envelope(viewer_client, query):
    AgentInstanceFactory()

    response = viewer_client.get(f"{URL}?{query}")

    assert response.status_code in {400, 404}, response.content
    assert_envelope(response, response.status_code)


def test_deleted_instances_are_not_listed(viewer_client):
    alive = AgentInstanceFactory()
    AgentInstanceFactory(is_deleted=True)

    assert ids(viewer_client.get(URL)) == [alive.pk]


def test_anonymous_clients_get_401(api_client):
    assert_envelope(api_client.get(URL), 401, "not_authenticated")


def test_the_list_costs_constant_queries_from_1_to_50_rows(viewer_client):
    conversation = ConversationFactory()
    assert_constant_queries(
        lambda: viewer_client.get(f"{URL}?page_size=100"),
        lambda count: AgentInstanceFactory.create_batch(count, conversation=conversation),
    )
