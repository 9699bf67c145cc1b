import pytest

from apps.runs.models import Run, RunStatus
from tests.factories import AgentFactory, RunFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db


def make_runs(user, count: int, **fields) -> list[Run]:
    agent = fields.pop("agent", None) or AgentFactory()
    return [
        RunFactory(agent=agent, input=f"task {n}", created_by=user, **fields) for n in range(count)
    ]


def test_the_list_shows_only_my_runs(viewer, other_user, viewer_client):
    mine = make_runs(viewer, 2)
    make_runs(other_user, 3)

    body = viewer_client.get("/api/runs/").json()

    assert body["count"] == 2
    assert {run["id"] for run in body["results"]} == {str(run.pk) for run in mine}


def test_the_list_filters_by_agent_status_and_source(viewer, viewer_client):
    writer = AgentFactory(slug="writer")
    make_runs(viewer, 1, agent=writer, status=RunStatus.SUCCEEDED)
    make_runs(viewer, 1, agent=writer, status=RunStatus.FAILED, source="mcp")
    make_runs(viewer, 1, status=RunStatus.SUCCEEDED)

    by_agent = viewer_client.get("/api/runs/?agent=writer").json()["count"]
    by_status = viewer_client.get("/api/runs/?status=succeeded").json()["count"]
    by_source = viewer_client.get("/api/runs/?source=mcp").json()["count"]
    by_date = viewer_client.get("/api/runs/?created_after=2000-01-01T00:00:00Z").json()["count"]

    assert (by_agent, by_status, by_source, by_date) == (2, 2, 1, 3)


@pytest.mark.parametrize(
    "query", ["status=exploded", "source=carrier-pigeon", "created_after=yesterday"]
)
def test_bad_filters_get_a_400(viewer_client, query):
    response = viewer_client.get(f"/api/runs/?{query}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_a_malformed_run_id_is_a_404(viewer_client):
    assert viewer_client.get("/api/runs/not-a-uuid/").status_code == 404


def test_the_run_list_costs_the_same_queries_for_1_or_50_runs(viewer, viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get("/api/runs/?page_size=100"), lambda n: make_runs(viewer, n)
    )
