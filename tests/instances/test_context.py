from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    AgentFactory,
    AgentInstanceFactory,
    ConversationFactory,
    MessageFactory,
    PersonaFactory,
    ScreenplayFactory,
)
from tests.instances.helpers import assert_envelope, detail_url

pytestmark = pytest.mark.django_db


def context_of(client, instance):
    response = client.get(detail_url(instance, "context/"))
    assert response.status_code == 200, response.content
    return response.json()


def test_it_shows_persona_screenplay_history_and_cwd(staff_client):
    persona = PersonaFactory(name="Careful", content="Be careful.")
    instance = AgentInstanceFactory(agent=AgentFactory(persona=persona), cwd="/srv/own")

    body = context_of(staff_client, instance)

    assert set(body) == {"persona", "screenplay", "history", "cwd"}
    assert body["persona"] == {"id": persona.pk, "name": "Careful", "content": "Be careful."}
    screenplay = instance.screenplay
    assert body["screenplay"] == {
        "id": screenplay.pk,
        "name": screenplay.name,
        "content": screenplay.content,
    }
    assert (body["history"], body["cwd"]) == ([], "/srv/own")


def test_the_persona_is_null_when_the_agent_has_none(staff_client):
    instance = AgentInstanceFactory(agent=AgentFactory(persona=None))

    assert context_of(staff_client, instance)["persona"] is None


def test_the_cwd_falls_back_to_the_screenplays_working_directory(staff_client):
    screenplay = ScreenplayFactory(working_directory="/srv/project")
    conversation = ConversationFactory(screenplay=screenplay)
    instance = AgentInstanceFactory(conversation=conversation, cwd="")

    assert context_of(staff_client, instance)["cwd"] == "/srv/project"


def test_the_cwd_is_null_when_neither_has_one(staff_client):
    instance = AgentInstanceFactory(cwd="")

    assert context_of(staff_client, instance)["cwd"] is None


def test_the_history_lists_visible_messages_oldest_first(staff_client):
    instance = AgentInstanceFactory()
    now = timezone.now()
    newer = MessageFactory(conversation=instance.conversation, content="second", created_at=now)
    older = MessageFactory(
        conversation=instance.conversation, content="first", created_at=now - timedelta(minutes=5)
    )
    MessageFactory(conversation=instance.conversation, content="hidden", is_hidden=True)
    MessageFactory(conversation=instance.conversation, content="deleted", is_deleted=True)
    MessageFactory(content="another conversation")

    history = context_of(staff_client, instance)["history"]

    assert [entry["id"] for entry in history] == [older.pk, newer.pk]
    assert [entry["content"] for entry in history] == ["first", "second"]
    assert set(history[0]) == {"id", "type", "agent", "content", "created_at"}


def test_an_instance_without_a_conversation_has_no_history(viewer_client):
    screenplay = ScreenplayFactory()
    instance = AgentInstanceFactory(conversation=None, screenplay=screenplay)

    assert context_of(viewer_client, instance)["history"] == []


def test_the_owner_of_the_conversation_reads_the_context(viewer_client, viewer):
    instance = AgentInstanceFactory(conversation=ConversationFactory(created_by=viewer))
    MessageFactory(conversation=instance.conversation, content="mine")

    history = context_of(viewer_client, instance)["history"]

    assert [entry["content"] for entry in history] == ["mine"]


def test_the_context_of_someone_elses_conversation_is_a_404(viewer_client, other_user):
    instance = AgentInstanceFactory(conversation=ConversationFactory(created_by=other_user))
    MessageFactory(conversation=instance.conversation, content="secret")

    response = viewer_client.get(detail_url(instance, "context/"))

    error = assert_envelope(response, 404, "not_found")
    assert "secret" not in response.content.decode()
    assert error["details"] is None


def test_the_context_of_a_deleted_instance_is_a_404(staff_client):
    instance = AgentInstanceFactory(is_deleted=True)

    assert_envelope(staff_client.get(detail_url(instance, "context/")), 404)
    assert (
        staff_client.get(detail_url(instance, "context/?include_deleted=true")).status_code == 200
    )


def test_an_anonymous_client_cannot_read_the_context(api_client):
    instance = AgentInstanceFactory()

    assert_envelope(api_client.get(detail_url(instance, "context/")), 401)
