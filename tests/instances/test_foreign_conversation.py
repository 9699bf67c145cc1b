"""A user binds instances only to conversations they may read; others' look missing."""

from __future__ import annotations

import pytest

from apps.instances.models import AgentInstance
from tests.factories import AgentFactory, AgentInstanceFactory, ConversationFactory
from tests.instances.helpers import URL, assert_envelope, detail_url

pytestmark = pytest.mark.django_db


def create_body(conversation_id: int, screenplay_id: int) -> dict[str, int]:
    return {
        "agent": AgentFactory().pk,
        "screenplay": screenplay_id,
        "conversation": conversation_id,
    }


def test_a_user_binds_an_instance_to_their_own_conversation(author_client, author):
    mine = ConversationFactory(created_by=author)

    response = author_client.post(URL, create_body(mine.pk, mine.screenplay_id), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["conversation"] == mine.pk


def test_someone_elses_conversation_is_refused_like_a_missing_one(author_client, other_user):
    theirs = ConversationFactory(created_by=other_user)
    missing_id = theirs.pk + 1000

    foreign = author_client.post(URL, create_body(theirs.pk, theirs.screenplay_id), format="json")
    missing = author_client.post(URL, create_body(missing_id, theirs.screenplay_id), format="json")

    foreign_error = assert_envelope(foreign, 400, "validation_error")
    missing_error = assert_envelope(missing, 400, "validation_error")
    assert set(foreign_error["details"]) == {"conversation"}
    strip = str.replace
    assert strip(foreign_error["details"]["conversation"][0], str(theirs.pk), "ID") == strip(
        missing_error["details"]["conversation"][0], str(missing_id), "ID"
    )
    assert not AgentInstance.objects.exists()


def test_someone_elses_conversation_is_refused_on_update(author_client, author, other_user):
    mine = ConversationFactory(created_by=author)
    instance = AgentInstanceFactory(conversation=mine)
    theirs = ConversationFactory(created_by=other_user, screenplay=mine.screenplay)

    response = author_client.patch(detail_url(instance), {"conversation": theirs.pk}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "conversation" in error["details"]
    assert AgentInstance.objects.get(pk=instance.pk).conversation_id == mine.pk


def test_a_deleted_conversation_is_refused(author_client, author):
    mine = ConversationFactory(created_by=author, is_deleted=True)

    response = author_client.post(URL, create_body(mine.pk, mine.screenplay_id), format="json")

    assert "conversation" in assert_envelope(response, 400, "validation_error")["details"]


def test_staff_may_bind_anyones_conversation(editor_client, other_user):
    theirs = ConversationFactory(created_by=other_user)

    response = editor_client.post(URL, create_body(theirs.pk, theirs.screenplay_id), format="json")

    assert response.status_code == 201, response.content
