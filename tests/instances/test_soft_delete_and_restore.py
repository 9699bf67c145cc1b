from __future__ import annotations

import pytest

from apps.core.soft_delete import soft_delete_tree
from apps.instances.models import AgentInstance
from tests.factories import AgentInstanceFactory
from tests.instances.helpers import URL, assert_envelope, detail_url

pytestmark = pytest.mark.django_db


def test_delete_is_a_soft_delete(editor_client):
    instance = AgentInstanceFactory()

    response = editor_client.delete(detail_url(instance))

    assert response.status_code == 204
    row = AgentInstance.all_objects.get(pk=instance.pk)
    assert (row.is_deleted, row.deleted_at is not None, row.deletion_batch is not None) == (
        True,
        True,
        True,
    )


def test_a_deleted_instance_is_hidden_from_list_and_detail(editor_client):
    instance = AgentInstanceFactory()
    editor_client.delete(detail_url(instance))

    assert editor_client.get(URL).json()["count"] == 0
    assert_envelope(editor_client.get(detail_url(instance)), 404, "not_found")


def test_deleting_twice_is_a_404(editor_client):
    instance = AgentInstanceFactory(is_deleted=True)

    assert_envelope(editor_client.delete(detail_url(instance)), 404)


def test_staff_see_deleted_instances_with_include_deleted(staff_client):
    alive = AgentInstanceFactory()
    deleted = AgentInstanceFactory(is_deleted=True)

    listed = staff_client.get(f"{URL}?include_deleted=true").json()
    only_deleted = staff_client.get(f"{URL}?include_deleted=true&is_deleted=true").json()
    detail = staff_client.get(detail_url(deleted, "?include_deleted=true"))

    assert {row["id"] for row in listed["results"]} == {alive.pk, deleted.pk}
    assert [row["id"] for row in only_deleted["results"]] == [deleted.pk]
    assert detail.status_code == 200
    assert detail.json()["is_deleted"] is True


def test_include_deleted_is_forbidden_to_non_staff(viewer_client):
    deleted = AgentInstanceFactory(is_deleted=True)

    assert_envelope(viewer_client.get(f"{URL}?include_deleted=true"), 403, "permission_denied")
    assert_envelope(viewer_client.get(detail_url(deleted, "?include_deleted=true")), 403)


def test_restore_brings_an_instance_back(editor_client):
    instance = AgentInstanceFactory()
    editor_client.delete(detail_url(instance))

    response = editor_client.post(detail_url(instance, "restore/"))

    assert response.status_code == 200, response.content
    assert response.json()["is_deleted"] is False
    row = AgentInstance.objects.get(pk=instance.pk)
    assert (row.deleted_at, row.deletion_batch) == (None, None)
    assert editor_client.get(detail_url(instance)).status_code == 200


def test_a_user_with_the_change_permission_restores(author_client):
    instance = AgentInstanceFactory(is_deleted=True)

    response = author_client.post(detail_url(instance, "restore/"))

    assert response.status_code == 200, response.content
    assert AgentInstance.objects.filter(pk=instance.pk).exists()


def test_restoring_an_alive_instance_is_a_409(editor_client):
    instance = AgentInstanceFactory()

    assert_envelope(
        editor_client.post(detail_url(instance, "restore/")), 409, "instance_not_deleted"
    )


def test_an_instance_deleted_with_its_conversation_waits_for_the_conversation(editor_client):
    instance = AgentInstanceFactory()
    sibling = AgentInstanceFactory(conversation=instance.conversation)
    soft_delete_tree(instance.conversation)

    response = editor_client.post(detail_url(instance, "restore/"))

    error = assert_envelope(response, 409, "parent_deleted")
    assert error["details"] == {"deleted": ["conversation"]}
    assert not AgentInstance.objects.filter(pk__in=[instance.pk, sibling.pk]).exists()


def test_an_instance_deleted_with_its_screenplay_waits_for_the_screenplay(editor_client):
    instance = AgentInstanceFactory()
    soft_delete_tree(instance.screenplay)

    response = editor_client.post(detail_url(instance, "restore/"))

    error = assert_envelope(response, 409, "parent_deleted")
    assert error["details"] == {"deleted": ["screenplay", "conversation"]}
    assert not AgentInstance.objects.filter(pk=instance.pk).exists()


def test_restoring_an_unknown_instance_is_a_404(editor_client):
    assert_envelope(editor_client.post(detail_url(987654, "restore/")), 404)


def test_a_viewer_can_neither_delete_nor_restore(viewer_client):
    alive = AgentInstanceFactory()
    deleted = AgentInstanceFactory(is_deleted=True)

    assert_envelope(viewer_client.delete(detail_url(alive)), 403)
    assert_envelope(viewer_client.post(detail_url(deleted, "restore/")), 403)
    assert AgentInstance.objects.filter(pk=alive.pk).exists()
    assert not AgentInstance.objects.filter(pk=deleted.pk).exists()


def test_an_anonymous_client_can_neither_delete_nor_restore(api_client):
    alive = AgentInstanceFactory()

    assert_envelope(api_client.delete(detail_url(alive)), 401)
    assert_envelope(api_client.post(detail_url(alive, "restore/")), 401)
