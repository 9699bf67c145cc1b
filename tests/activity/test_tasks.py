from datetime import timedelta

import pytest
from django.utils import timezone

from apps.runs.models import Run, RunStatus
from tests.envelope import assert_envelope
from tests.factories import AgentFactory, RunFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

TASKS = "/api/tasks/"


def make_runs(user, count: int, **fields) -> list[Run]:
    """``count`` runs, a minute apart, the last one newest."""
    agent = fields.pop("agent", None) or AgentFactory()
    start = timezone.now() - timedelta(hours=1)
    return [
        RunFactory(
            agent=agent,
            input=f"task {n}",
            created_by=user,
            created_at=start + timedelta(minutes=n),
            **fields,
        )
        for n in range(count)
    ]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [task["id"] for task in response.json()["results"]]


def test_the_task_list_shows_my_runs_newest_first(viewer, other_user, viewer_client):
    older, newer = make_runs(viewer, 2)
    make_runs(other_user, 3)

    body = viewer_client.get(TASKS).json()

    assert body["count"] == 2
    assert [task["id"] for task in body["results"]] == [str(newer.pk), str(older.pk)]
    task = body["results"][0]
    assert (task["agent"], task["status"]) == (newer.agent.slug, "queued")
    assert task["summary"] == "task 1"
    assert task["details_url"] == f"/api/tasks/{newer.pk}/details/"


def test_staff_see_everyones_tasks(viewer, other_user, staff_client):
    make_runs(viewer, 1)
    make_runs(other_user, 2)

    assert staff_client.get(TASKS).json()["count"] == 3


def test_the_task_list_filters_by_status_and_agent(viewer, viewer_client):
    writer = AgentFactory(slug="writer")
    failed = make_runs(viewer, 1, agent=writer, status=RunStatus.FAILED)
    make_runs(viewer, 1, agent=writer, status=RunStatus.SUCCEEDED)
    make_runs(viewer, 1, status=RunStatus.FAILED)

    assert len(ids(viewer_client.get(f"{TASKS}?agent=writer"))) == 2
    assert len(ids(viewer_client.get(f"{TASKS}?status=failed"))) == 2
    assert ids(viewer_client.get(f"{TASKS}?agent=writer&status=failed")) == [str(failed[0].pk)]
    assert ids(viewer_client.get(f"{TASKS}?agent=nobody")) == []


def test_the_task_list_pages_with_limit_and_offset(viewer, viewer_client):
    runs = make_runs(viewer, 60)
    newest_first = [str(run.pk) for run in reversed(runs)]

    assert ids(viewer_client.get(TASKS)) == newest_first[:50]
    assert ids(viewer_client.get(f"{TASKS}?limit=5&offset=10")) == newest_first[10:15]
    assert len(ids(viewer_client.get(f"{TASKS}?limit=500"))) == 60
    assert ids(viewer_client.get(f"{TASKS}?offset=100")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("offset=-1", "offset"),
        ("offset=first", "offset"),
        ("status=exploded", "status"),
        ("sort=input", "sort"),
        ("sort=-password", "sort"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(viewer_client, query, field):
    error = assert_envelope(viewer_client.get(f"{TASKS}?{query}"), 400, "validation_error")

    assert field in error["details"]


def test_the_task_list_sorts_by_a_whitelisted_field(viewer, viewer_client):
    slow, fast, unfinished = make_runs(viewer, 3)
    Run.objects.filter(pk=slow.pk).update(duration_ms=9000, status=RunStatus.SUCCEEDED)
    Run.objects.filter(pk=fast.pk).update(duration_ms=10, status=RunStatus.FAILED)

    by_duration = ids(viewer_client.get(f"{TASKS}?sort=duration_ms"))
    by_duration_desc = ids(viewer_client.get(f"{TASKS}?sort=-duration_ms"))
    by_status = ids(viewer_client.get(f"{TASKS}?sort=status"))
    oldest_first = ids(viewer_client.get(f"{TASKS}?sort=created_at"))

    assert by_duration[:2] == [str(fast.pk), str(slow.pk)]
    assert by_duration_desc.index(str(slow.pk)) < by_duration_desc.index(str(fast.pk))
    assert by_status == [str(fast.pk), str(unfinished.pk), str(slow.pk)]
    assert oldest_first == [str(slow.pk), str(fast.pk), str(unfinished.pk)]


def test_the_task_list_costs_the_same_queries_for_1_or_50_tasks(viewer, viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get(f"{TASKS}?limit=500"), lambda n: make_runs(viewer, n)
    )


def test_the_task_list_needs_a_signed_in_user(api_client):
    assert_envelope(api_client.get(TASKS), 401, "not_authenticated")


# --- Details -----------------------------------------------------------------------


def test_details_show_the_full_prompt_outcome_timing_and_usage(viewer, viewer_client):
    prompt = "Review this:\n" + "line of code\n" * 50
    run = RunFactory(
        created_by=viewer,
        input=prompt,
        status=RunStatus.FAILED,
        result="",
        error="the linter crashed",
        severity="error",
        duration_ms=1234,
        prompt_tokens=10,
        completion_tokens=5,
        total_tokens=15,
    )

    response = viewer_client.get(f"/api/tasks/{run.pk}/details/")

    assert response.status_code == 200, response.content
    task = response.json()
    assert task["input"] == prompt
    assert len(task["summary"]) == 200
    assert (task["status"], task["severity"], task["error"]) == (
        "failed",
        "error",
        "the linter crashed",
    )
    assert (task["duration_ms"], task["prompt_tokens"], task["total_tokens"]) == (1234, 10, 15)
    assert {"created_at", "started_at", "finished_at", "cost_usd", "result"} <= set(task)
    assert task["created_by"] == "viewer"


def test_another_users_task_details_are_a_404(other_user, viewer_client, staff_client):
    run = RunFactory(created_by=other_user, input="their secret plan")

    error = assert_envelope(viewer_client.get(f"/api/tasks/{run.pk}/details/"), 404, "not_found")

    assert "secret" not in str(error)
    assert staff_client.get(f"/api/tasks/{run.pk}/details/").json()["input"] == "their secret plan"


@pytest.mark.parametrize("task_id", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_an_unknown_or_malformed_task_id_is_a_404(viewer_client, task_id):
    assert viewer_client.get(f"/api/tasks/{task_id}/details/").status_code == 404
