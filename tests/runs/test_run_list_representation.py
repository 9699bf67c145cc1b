"""The runs list reads plain rows (RUN_LIST_ROWS): each item must stay the run's detail."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.runs.models import RunSource, RunStatus, Severity
from apps.runtime.providers import DEMO_MODEL
from tests.factories import AgentInstanceFactory, RunFactory

pytestmark = pytest.mark.django_db

DETAIL_ONLY = {"steps", "approvals"}


def a_run_with_every_field_set(user):
    instance = AgentInstanceFactory()
    return RunFactory(
        agent=instance.agent,
        instance=instance,
        conversation=instance.conversation,
        screenplay=instance.screenplay,
        input="Résumé the 🎼 score",
        cwd="/srv/project",
        model=DEMO_MODEL,
        max_cost_usd=Decimal("1.5"),
        max_tokens=4000,
        status=RunStatus.FAILED,
        result="partial",
        error="The tool timed out.",
        severity=Severity.WARNING,
        prompt_tokens=120,
        completion_tokens=30,
        total_tokens=150,
        cost_usd=Decimal("0.000123"),
        started_at=datetime(2025, 3, 30, 0, 59, 59, 999999, tzinfo=UTC),
        finished_at=datetime(2025, 3, 30, 1, 0, 1, tzinfo=UTC),
        duration_ms=2001,
        heartbeat_at=datetime(2025, 3, 30, 1, 0, 0, 500, tzinfo=UTC),
        source=RunSource.MCP,
        created_by=user,
    )


def listed_and_detailed(client, query: str = "") -> list[tuple[dict, dict]]:
    items = client.get(f"/api/runs/?page_size=200{query}").json()["results"]
    return [(item, client.get(f"/api/runs/{item['id']}/").json()) for item in items]


def without_detail_only(detail: dict) -> list[tuple[str, object]]:
    return [(key, value) for key, value in detail.items() if key not in DETAIL_ONLY]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Asia/Kolkata"])
def test_each_listed_run_reads_exactly_as_its_detail(staff, staff_client, zone):
    a_run_with_every_field_set(staff)
    RunFactory(created_by=None)  # every nullable column null
    RunFactory(created_by=staff, cost_usd=Decimal("12.345678"), max_cost_usd=Decimal("0"))

    with timezone.override(zone):
        pairs = listed_and_detailed(staff_client)

    assert len(pairs) == 3
    for item, detail in pairs:
        assert list(item.items()) == without_detail_only(detail)  # same keys, same order


def test_the_list_shows_related_ids_decimals_and_datetimes_as_the_api_always_has(
    staff, staff_client
):
    run = a_run_with_every_field_set(staff)

    [item] = staff_client.get("/api/runs/").json()["results"]

    assert item["instance"] == run.instance_id
    assert item["conversation"] == run.conversation_id
    assert item["screenplay"] == run.screenplay_id
    assert (item["max_cost_usd"], item["cost_usd"]) == ("1.500000", "0.000123")
    assert item["started_at"] == "2025-03-30T00:59:59.999999Z"
    assert item["heartbeat_at"] == "2025-03-30T01:00:00.000500Z"
    assert (item["agent"], item["created_by"]) == (run.agent.slug, "staff")
    assert item["events_url"] == f"/api/runs/{run.pk}/events/"
    assert item["offline_demo"] is True


def test_ordering_and_search_still_apply_to_the_rows(staff, staff_client):
    for cost in ("0.3", "0.1", "0.2"):
        RunFactory(created_by=staff, input=f"costs {cost}", cost_usd=Decimal(cost))
    RunFactory(created_by=staff, input="something else")

    body = staff_client.get("/api/runs/?search=costs&ordering=-cost_usd").json()

    assert body["count"] == 3
    assert [item["cost_usd"] for item in body["results"]] == ["0.300000", "0.200000", "0.100000"]
