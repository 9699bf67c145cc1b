"""Tasks and commands call the services with no request: the actor is explicit."""

from __future__ import annotations

import pytest

from apps.personas import services
from apps.personas.models import Persona

pytestmark = pytest.mark.django_db


def test_a_service_called_outside_a_request_records_the_explicit_actor_and_reason(other_user):
    persona = services.persona_create(
        actor=other_user, name="Nightly", content="v1", change_reason="Nightly import"
    )
    services.persona_update(
        persona=persona, actor=other_user, content="v2", change_reason="Nightly refresh"
    )

    history = persona.history.order_by("version")
    assert [(r.version, r.history_user, r.history_change_reason) for r in history] == [
        (1, other_user, "Nightly import"),
        (2, other_user, "Nightly refresh"),
    ]


def test_a_duplicate_gets_its_own_history_with_the_actor_and_reason(persona, other_user):
    copy = services.persona_duplicate(persona=persona, actor=other_user)

    assert copy.name == "Reviewer (copy)"
    assert copy.content == persona.content
    record = copy.history.get()
    assert (record.version, record.history_user) == (1, other_user)
    assert record.history_change_reason == "Duplicated from 'Reviewer'"


def test_duplicating_twice_picks_a_free_name(persona, other_user):
    services.persona_duplicate(persona=persona, actor=other_user)
    second = services.persona_duplicate(persona=persona, actor=other_user)

    assert second.name == "Reviewer (copy 2)"
    assert Persona.objects.count() == 3


def test_a_service_normalises_windows_line_endings(other_user):
    persona = services.persona_create(actor=other_user, name="CRLF", content="a\r\nb")

    assert persona.content == "a\nb"
