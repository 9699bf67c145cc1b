from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"


def found(client, query: str) -> list[str]:
    response = client.get(URL, {"search": query})
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


@pytest.fixture
def library():
    ScreenplayFactory(name="Deploy runbook", description="", content="# Steps\n\nShip it.\n")
    ScreenplayFactory(name="Notes", description="How we deploy on Fridays", content="# N\n")
    ScreenplayFactory(name="Other", description="", content="# Kubernetes\n\nWe deploy pods.\n")
    ScreenplayFactory(name="Unrelated", description="cats", content="# Cats\n\nMeow.\n")


def test_it_searches_name_description_and_content(viewer_client, library):
    assert sorted(found(viewer_client, "deploy")) == ["Deploy runbook", "Notes", "Other"]


def test_every_word_must_match(viewer_client, library):
    assert found(viewer_client, "deploy pods") == ["Other"]


def test_a_blank_search_lists_everything(viewer_client, library):
    assert len(found(viewer_client, "   ")) == 4


def test_it_never_finds_deleted_screenplays(viewer_client):
    ScreenplayFactory(name="Deploy gone", deleted=True)

    assert found(viewer_client, "deploy") == []


@pytest.mark.parametrize("query", ["\x00", "a\x00b", "'; drop table", "&|!():*", '"unclosed'])
def test_odd_search_text_is_never_a_500(viewer_client, library, query):
    response = viewer_client.get(URL, {"search": query})

    assert response.status_code == 200


def test_search_combines_with_filters_and_ordering(viewer_client, library):
    ScreenplayFactory(name="Deploy tagged", tags=["ops"], content="# Deploy\n")

    response = viewer_client.get(URL, {"search": "deploy", "tags": "ops", "ordering": "name"})

    assert [row["name"] for row in response.json()["results"]] == ["Deploy tagged"]


@pytest.mark.postgres
def test_postgresql_search_stems_words_and_ranks_by_relevance(viewer_client):
    if connection.vendor != "postgresql":
        pytest.skip("the database under test is not PostgreSQL (set DATABASE_URL)")
    ScreenplayFactory(name="Content only", content="# Daily\n\nShe runs every morning.\n")
    ScreenplayFactory(name="Run the pipeline", content="# Pipeline\n\nSteps.\n")
    ScreenplayFactory(name="Elsewhere", content="# Cats\n\nWalking only.\n")

    assert found(viewer_client, "running") == ["Run the pipeline", "Content only"]
