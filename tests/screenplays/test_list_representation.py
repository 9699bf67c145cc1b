"""The list reads plain rows (SCREENPLAY_LIST_ROWS): each item must stay the detail."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from tests.factories import ScreenplayFactory

pytestmark = pytest.mark.django_db

URL = "/api/screenplays/"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_each_listed_screenplay_reads_exactly_as_its_detail(staff_client, zone):
    ScreenplayFactory(
        name="Ünïcode 🎬",
        description="Described",
        tags=["alpha", "beta"],
        working_directory="/srv/project",
        file_path="docs",
        import_path="/in/a.md",
        export_path="/out/a.md",
        version=7,
        last_used_at=datetime(2024, 11, 3, 5, 30, 0, 1, tzinfo=UTC),
    )
    ScreenplayFactory(deleted=True)
    ScreenplayFactory()  # blank paths, no tags, never used

    with timezone.override(zone):
        items = staff_client.get(f"{URL}?include_deleted=true").json()["results"]
        details = [
            staff_client.get(f"{URL}{item['id']}/?include_deleted=true").json() for item in items
        ]

    assert len(items) == 3
    for item, detail in zip(items, details, strict=True):
        assert list(item.items()) == list(detail.items())  # same keys, same order


def test_search_ranks_the_rows_it_lists(viewer_client):
    ScreenplayFactory(name="Other", content="Nothing to see.")
    ScreenplayFactory(name="Deploy", content="How we deploy.")

    body = viewer_client.get(f"{URL}?search=deploy").json()

    assert (body["count"], [row["name"] for row in body["results"]]) == (1, ["Deploy"])
