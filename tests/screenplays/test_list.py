from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.envelope import assert_envelope
from tests.factories import ScreenplayFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def test_it_pages_with_count_next_and_previous(viewer_client):
    ScreenplayFactory.create_batch(3)

    body = viewer_client.get(f"{URL}?page_size=2").json()

    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"].endswith("page=2&page_size=2")
    assert body["previous"] is None


def test_a_page_past_the_end_is_a_404(viewer_client):
    ScreenplayFactory()

    assert_envelope(viewer_client.get(f"{URL}?page=9"), 404)


def test_a_non_numeric_page_is_a_404_not_a_500(viewer_client):
    assert_envelope(viewer_client.get(f"{URL}?page=abc"), 404)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["A", "B", "C"]),
        ("-name", ["C", "B", "A"]),
        ("version", ["B", "C", "A"]),
        ("-last_used_at", ["C", "A", "B"]),
        ("created_at", ["A", "B", "C"]),
        ("-updated_at", ["C", "B", "A"]),
    ],
)
def test_it_orders_by_the_allowed_fields(viewer_client, ordering, expected):
    now = timezone.now()
    ScreenplayFactory(name="A", version=3, last_used_at=now - timedelta(days=1))
    ScreenplayFactory(name="B", version=1, last_used_at=None)
    ScreenplayFactory(name="C", version=2, last_used_at=now)

    response = viewer_client.get(f"{URL}?ordering={ordering}")

    if ordering == "-last_used_at":
        # NULLs sort first descending on PostgreSQL and last on SQLite.
        assert [n for n in names(response) if n != "B"] == ["C", "A"]
    else:
        assert names(response) == expected


@pytest.mark.parametrize("ordering", ["content", "nope", "-password", "name;drop"])
def test_an_unknown_ordering_field_is_ignored(viewer_client, ordering):
    ScreenplayFactory.create_batch(2)

    response = viewer_client.get(f"{URL}?ordering={ordering}")

    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_it_filters_by_tags_requiring_every_tag(viewer_client):
    ScreenplayFactory(name="Both", tags=["ops", "urgent"])
    ScreenplayFactory(name="Ops", tags=["ops"])
    ScreenplayFactory(name="Prefix", tags=["opsy", "urgently"])

    assert sorted(names(viewer_client.get(f"{URL}?tags=ops"))) == ["Both", "Ops"]
    assert names(viewer_client.get(f"{URL}?tags=ops,urgent")) == ["Both"]


def test_it_filters_by_creation_date(viewer_client):
    ScreenplayFactory(name="Old")
    cutoff = timezone.now().isoformat()
    ScreenplayFactory(name="New")

    response = viewer_client.get(URL, {"created_after": cutoff})

    assert names(response) == ["New"]


@pytest.mark.parametrize(
    "query", ["created_after=yesterday", "is_deleted=perhaps", "page_size=abc"]
)
def test_bad_filter_values_are_a_400_or_ignored_never_a_500(viewer_client, query):
    ScreenplayFactory()

    response = viewer_client.get(f"{URL}?{query}")

    assert response.status_code in {200, 400}
    if response.status_code == 400:
        assert_envelope(response, 400)


def test_it_hides_deleted_screenplays_by_default(viewer_client):
    ScreenplayFactory(name="Alive")
    ScreenplayFactory(name="Gone", deleted=True)

    assert names(viewer_client.get(URL)) == ["Alive"]


def test_the_detail_shows_every_field(viewer_client):
    screenplay = ScreenplayFactory(tags=["x"], working_directory="/srv")

    body = viewer_client.get(f"{URL}{screenplay.pk}/").json()

    assert set(body) == {
        "id", "name", "description", "tags", "content", "working_directory", "file_path",
        "import_path", "export_path", "file_key", "content_hash", "version", "last_used_at",
        "is_deleted", "deleted_at", "created_at", "updated_at",
    }  # fmt: skip
    assert body["tags"] == ["x"]


def test_the_list_costs_the_same_queries_for_1_or_50_rows(viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get(f"{URL}?page_size=100"),
        lambda count: ScreenplayFactory.create_batch(count, tags=["t"]),
    )


def test_the_staff_list_with_deleted_rows_costs_constant_queries(staff_client):
    assert_constant_queries(
        lambda: staff_client.get(f"{URL}?include_deleted=true&page_size=100&search=context"),
        lambda count: ScreenplayFactory.create_batch(count, deleted=True),
    )


@pytest.mark.parametrize("tags", ["\x00", "a\x00b", "ü,日本", ",,,"])
def test_odd_tag_filters_are_a_400_or_answered_never_a_500(viewer_client, tags):
    ScreenplayFactory(tags=["ü"])

    response = viewer_client.get(URL, {"tags": tags})

    if "\x00" in tags:
        assert_envelope(response, 400, "validation_error")
    else:
        assert response.status_code == 200


def test_non_ascii_tags_filter_exactly(viewer_client):
    ScreenplayFactory(name="Umlaut", tags=["ü"])
    ScreenplayFactory(name="Plain", tags=["u"])

    assert names(viewer_client.get(URL, {"tags": "ü"})) == ["Umlaut"]
