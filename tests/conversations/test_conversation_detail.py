import pytest

from apps.conversations.models import Conversation
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db


def url(conversation) -> str:
    return f"/api/conversations/{conversation.pk}/"


def test_the_owner_reads_their_conversation(viewer_client, mine):
    response = viewer_client.get(url(mine))

    assert response.status_code == 200
    assert response.json()["title"] == "Mine"


def test_another_users_conversation_is_not_found(viewer_client, theirs):
    assert_envelope(viewer_client.get(url(theirs)), 404, "not_found")


def test_an_unknown_id_is_not_found(viewer_client):
    assert_envelope(viewer_client.get("/api/conversations/999999/"), 404, "not_found")


def test_staff_read_anyones_conversation(staff_client, theirs):
    assert staff_client.get(url(theirs)).status_code == 200


def test_the_owner_patches_fields(viewer_client, mine):
    response = viewer_client.patch(
        url(mine), {"title": "Renamed", "auto_delegate": True}, format="json"
    )

    assert response.status_code == 200, response.content
    mine.refresh_from_db()
    assert (mine.title, mine.auto_delegate) == ("Renamed", True)


def test_a_put_replaces_the_writable_fields(viewer_client, mine):
    response = viewer_client.put(
        url(mine), {"title": "Whole", "context": "new", "max_chain_depth": 5}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["max_chain_depth"] == 5


def test_a_put_without_a_title_is_a_400(viewer_client, mine):
    assert_envelope(viewer_client.put(url(mine), {}, format="json"), 400, "validation_error")


def test_another_users_conversation_cannot_be_patched(viewer_client, theirs):
    response = viewer_client.patch(url(theirs), {"title": "Mine now"}, format="json")

    assert_envelope(response, 404)
    assert Conversation.objects.get(pk=theirs.pk).title == "Theirs"


def test_a_deleted_conversation_is_not_found_unless_staff_ask_for_it(
    viewer_client, staff_client, mine
):
    Conversation.objects.filter(pk=mine.pk).update(is_deleted=True)

    assert_envelope(viewer_client.get(url(mine)), 404)
    assert staff_client.get(url(mine), {"include_deleted": "true"}).json()["is_deleted"] is True
