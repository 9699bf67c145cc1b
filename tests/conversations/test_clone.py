import pytest

from apps.conversations.models import Conversation, Message
from apps.conversations.services import message_create
from tests.envelope import assert_envelope
from tests.factories import AgentInstanceFactory, MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def threaded(mine, viewer):
    """Two instances (one active) and a thread: root → reply → reply to the reply."""
    instances = [AgentInstanceFactory(conversation=mine) for _ in range(2)]
    mine.active_agent = instances[1]
    mine.context = "# Shared"
    mine.max_chain_depth = 7
    mine.save()
    root = message_create(conversation=mine, actor=viewer, type="user", content="root")
    reply = message_create(conversation=mine, actor=viewer, parent=root, type="bot", content="r1")
    message_create(conversation=mine, actor=viewer, parent=reply, type="bot", content="r2")
    MessageFactory(conversation=mine, content="hidden", is_hidden=True)
    return instances


def clone(client, conversation):
    return client.post(f"/api/conversations/{conversation.pk}/clone/")


def test_a_clone_copies_settings_and_is_owned_by_the_cloner(viewer_client, mine, threaded):
    response = clone(viewer_client, mine)

    assert response.status_code == 201, response.content
    copy = response.json()["conversation"]
    assert copy["id"] != mine.pk
    assert copy["title"] == "Mine (copy)"
    assert (copy["context"], copy["max_chain_depth"]) == ("# Shared", 7)
    assert copy["created_by"] == "viewer"
    assert copy["message_count"] == 4


def test_the_instance_id_map_names_old_and_new_instances(viewer_client, mine, threaded):
    body = clone(viewer_client, mine).json()

    id_map = body["instance_id_map"]
    assert set(id_map) == {str(instance.pk) for instance in threaded}
    new_ids = {participant["id"] for participant in body["conversation"]["participants"]}
    assert set(id_map.values()) == new_ids
    assert body["conversation"]["active_agent"] == id_map[str(threaded[1].pk)]


def test_threads_are_preserved_with_new_ids(viewer_client, mine, threaded):
    copy_id = clone(viewer_client, mine).json()["conversation"]["id"]

    copies = {m.content: m for m in Message.objects.filter(conversation_id=copy_id)}
    originals = set(Message.objects.filter(conversation=mine).values_list("pk", flat=True))
    assert not originals & {m.pk for m in copies.values()}
    assert copies["r1"].parent == copies["root"]
    assert copies["r2"].parent == copies["r1"]
    assert copies["r2"].thread_root == copies["root"]
    assert copies["hidden"].is_hidden


def test_the_copy_answers_the_thread_query(viewer_client, mine, threaded):
    copy_id = clone(viewer_client, mine).json()["conversation"]["id"]
    root = Message.objects.get(conversation_id=copy_id, content="root")

    response = viewer_client.get(f"/api/conversations/{copy_id}/messages/", {"thread": root.pk})

    assert [m["content"] for m in response.json()["results"]] == ["root", "r1", "r2"]


def test_the_original_is_untouched(viewer_client, mine, threaded):
    clone(viewer_client, mine)

    assert Message.objects.filter(conversation=mine).count() == 4
    assert Conversation.objects.count() == 2


def test_staff_clone_anyones_conversation_and_own_the_copy(staff_client, theirs):
    body = clone(staff_client, theirs).json()

    assert body["conversation"]["created_by"] == "staff"
    assert body["instance_id_map"] == {}


def test_another_users_conversation_cannot_be_cloned(viewer_client, theirs):
    assert_envelope(clone(viewer_client, theirs), 404)
    assert Conversation.objects.count() == 1
