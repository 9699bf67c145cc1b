from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.personas import services
from apps.personas.models import Persona
from tests.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def version_numbers(persona: Persona) -> list[int]:
    return list(persona.history.order_by("history_id").values_list("version", flat=True))


def test_each_persona_counts_its_own_versions(editor):
    first, second = PersonaFactory(), PersonaFactory()
    services.persona_update(persona=first, actor=editor, content="a")
    services.persona_update(persona=first, actor=editor, content="b")
    services.persona_update(persona=second, actor=editor, content="c")

    assert version_numbers(first) == [1, 2, 3]
    assert version_numbers(second) == [1, 2]


def test_bulk_create_numbers_each_new_persona_from_one(editor):
    created = services.persona_bulk_create(
        personas=[Persona(name="A"), Persona(name="B")], actor=editor, change_reason="Import"
    )

    for persona in created:
        record = persona.history.get()
        assert (record.version, record.history_user, record.history_change_reason) == (
            1,
            editor,
            "Import",
        )


def test_bulk_update_continues_each_personas_numbering(editor):
    first, second = PersonaFactory(), PersonaFactory()
    services.persona_update(persona=first, actor=editor, content="first v2")
    first.content, second.content = "first v3", "second v2"

    services.persona_bulk_update(
        personas=[first, second], fields=["content"], actor=editor, change_reason="Sweep"
    )

    assert version_numbers(first) == [1, 2, 3]
    assert version_numbers(second) == [1, 2]


def test_plain_saves_outside_the_services_are_numbered_too():
    persona = Persona.objects.create(name="Raw")
    persona.content = "edited by a shell"
    persona.save()

    assert version_numbers(persona) == [1, 2]


def test_the_database_refuses_a_version_number_twice(persona):
    record = persona.history.get()
    duplicate = Persona.history.model(
        id=persona.pk,
        name=persona.name,
        content="",
        metadata={},
        created_at=record.created_at,
        updated_at=record.updated_at,
        history_date=record.history_date,
        history_type="~",
        version=1,
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_a_deleted_persona_keeps_its_numbered_history(persona, editor):
    pk = persona.pk
    services.persona_delete(persona=persona, actor=editor, change_reason="Gone")

    history = Persona.history.model.objects.filter(id=pk).order_by("version")
    assert [(r.version, r.history_type) for r in history] == [(1, "+"), (2, "-")]
