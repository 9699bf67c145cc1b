from __future__ import annotations

import pytest

from apps.personas import services
from tests.factories import PersonaFactory
from tests.personas.conftest import versions_url
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db


def test_the_persona_list_costs_the_same_queries_for_1_or_50_rows(viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get("/api/personas/"),
        lambda count: PersonaFactory.create_batch(count),
    )


def test_the_version_list_costs_the_same_queries_for_1_or_50_versions(
    viewer_client, editor, other_user
):
    persona = PersonaFactory(author=editor)
    authors = [editor, other_user]

    def add_versions(count: int) -> None:
        for number in range(count):
            services.persona_update(
                persona=persona, actor=authors[number % 2], content=f"edit {number}"
            )

    assert_constant_queries(lambda: viewer_client.get(versions_url(persona)), add_versions)
