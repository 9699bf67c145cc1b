import pytest

from apps.conversations.models import Conversation
from tests.envelope import assert_envelope
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

URL = "/api/conversations/reorder/"


def orders() -> dict[str, int]:
    return dict(Conversation.all_objects.values_list("title", "display_order"))


def test_the_owner_reorders_their_conversations(viewer_client, viewer):
    first = ConversationFactory(created_by=viewer, title="a", display_order=0)
    second = ConversationFactory(created_by=viewer, title="b", display_order=1)

    response = viewer_client.patch(
        URL,
        {"order": [{"id": first.pk, "display_order": 5}, {"id": second.pk, "display_order": 2}]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert [row["title"] for row in response.json()] == ["b", "a"]
    assert orders() == {"a": 5, "b": 2}


def test_another_users_conversation_in_the_order_is_a_400(viewer_client, mine, theirs):
    response = viewer_client.patch(
        URL,
        {"order": [{"id": mine.pk, "display_order": 9}, {"id": theirs.pk, "display_order": 1}]},
        format="json",
    )

    error = assert_envelope(response, 400, "invalid_reorder")
    assert error["details"] == {"ids": [theirs.pk]}
    assert orders() == {"Mine": mine.display_order, "Theirs": theirs.display_order}


def test_an_unknown_id_is_a_400(viewer_client, mine):
    response = viewer_client.patch(
        URL, {"order": [{"id": 999999, "display_order": 1}]}, format="json"
    )

    assert_envelope(response, 400, "invalid_reorder")


def test_staff_reorder_anyones_conversations(staff_client, theirs):
    response = staff_client.patch(
        URL, {"order": [{"id": theirs.pk, "display_order": 4}]}, format="json"
    )

    assert response.status_code == 200
    assert orders()["Theirs"] == 4


def test_a_conversation_named_twice_is_a_400(viewer_client, mine):
    item = {"id": mine.pk, "display_order": 1}

    assert_envelope(viewer_client.patch(URL, {"order": [item, item]}, format="json"), 400)


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"order": []},
        {"order": "1,2"},
        {"order": [{"id": "x", "display_order": 1}]},
        {"order": [{"id": 1}]},
        {"order": [{"id": 1, "display_order": -1}]},
        {"order": [{"id": 2**70, "display_order": 1}]},
    ],
)
def test_a_malformed_order_is_a_400(viewer_client, mine, payload):
    assert_envelope(viewer_client.patch(URL, payload, format="json"), 400, "validation_error")
