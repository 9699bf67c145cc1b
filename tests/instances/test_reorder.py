from __future__ import annotations

from typing import Any

import pytest

from apps.instances.models import AgentInstance
from tests.factories import AgentInstanceFactory, ConversationFactory
from tests.instances.helpers import URL, assert_envelope

pytestmark = pytest.mark.django_db

REORDER = f"{URL}reorder/"


def orders() -> dict[int, int]:
    return dict(AgentInstance.all_objects.values_list("pk", "display_order"))


@pytest.fixture
def trio() -> list[AgentInstance]:
    conversation = ConversationFactory()
    return [AgentInstanceFactory(conversation=conversation, display_order=n) for n in range(3)]


def test_it_reorders_and_returns_the_instances_in_their_new_order(editor_client, trio):
    first, second, third = trio
    body = {
        "order": [
            {"id": first.pk, "display_order": 2},
            {"id": second.pk, "display_order": 0},
            {"id": third.pk, "display_order": 1},
        ]
    }

    response = editor_client.patch(REORDER, body, format="json")

    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()] == [second.pk, third.pk, first.pk]
    assert response.json()[0]["agent_slug"] == second.agent.slug
    assert orders() == {first.pk: 2, second.pk: 0, third.pk: 1}


def test_instances_of_another_screenplay_cannot_be_reordered_together(editor_client, trio):
    stranger = AgentInstanceFactory()
    before = orders()
    body = {
        "order": [{"id": trio[0].pk, "display_order": 5}, {"id": stranger.pk, "display_order": 6}]
    }

    response = editor_client.patch(REORDER, body, format="json")

    assert_envelope(response, 400, "invalid_reorder")
    assert orders() == before


def test_unknown_and_deleted_ids_are_refused(editor_client, trio):
    deleted = AgentInstanceFactory(conversation=trio[0].conversation, is_deleted=True)
    before = orders()
    body = {
        "order": [
            {"id": trio[0].pk, "display_order": 9},
            {"id": deleted.pk, "display_order": 1},
            {"id": 987654, "display_order": 2},
        ]
    }

    response = editor_client.patch(REORDER, body, format="json")

    error = assert_envelope(response, 400, "invalid_reorder")
    assert error["details"] == {"ids": sorted([deleted.pk, 987654])}
    assert orders() == before


def test_an_id_named_twice_is_refused(editor_client, trio):
    before = orders()
    body = {
        "order": [{"id": trio[0].pk, "display_order": 1}, {"id": trio[0].pk, "display_order": 2}]
    }

    response = editor_client.patch(REORDER, body, format="json")

    assert_envelope(response, 400, "invalid_reorder")
    assert orders() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"order": None},
        {"order": "1,2"},
        {"order": {"id": 1, "display_order": 0}},
        {"order": []},
        {"order": [1, 2]},
        {"order": [{"id": 1}]},
        {"order": [{"display_order": 1}]},
        {"order": [{"id": "one", "display_order": 1}]},
        {"order": [{"id": 1.5, "display_order": 1}]},
        {"order": [{"id": 2**70, "display_order": 1}]},
        {"order": [{"id": 1, "display_order": -1}]},
        {"order": [{"id": 1, "display_order": 1.5}]},
        {"order": [{"id": 1, "display_order": "last"}]},
        {"order": [{"id": 1, "display_order": 2**40}]},
        {"order": [{"id": 1, "display_order": None}]},
    ],
)
def test_a_malformed_body_is_a_validation_error(editor_client, trio, body: dict[str, Any]):
    before = orders()

    response = editor_client.patch(REORDER, body, format="json")

    assert_envelope(response, 400, "validation_error")
    assert orders() == before


def test_a_viewer_cannot_reorder(viewer_client, trio):
    body = {"order": [{"id": trio[0].pk, "display_order": 9}]}

    assert_envelope(viewer_client.patch(REORDER, body, format="json"), 403)
    assert orders()[trio[0].pk] == 0


def test_an_anonymous_client_cannot_reorder(api_client, trio):
    body = {"order": [{"id": trio[0].pk, "display_order": 9}]}

    assert_envelope(api_client.patch(REORDER, body, format="json"), 401)
