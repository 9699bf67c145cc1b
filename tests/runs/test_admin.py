from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.runs.admin import human_duration
from apps.runs.models import Run, RunSource, RunStatus, RunStep
from apps.runs.services import RunRequest, run_start
from tests.factories import AgentFactory, RunFactory, UserFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/runs/run/"


@pytest.fixture
def agent(db):
    return AgentFactory(slug="writer", name="Writer")


def make_run(agent: Any, **fields: Any) -> Run:
    defaults: dict[str, Any] = {
        "input": "Summarise the notes",
        "cwd": "/srv/project",
        "model": agent.model,
        "max_steps": 10,
        "timeout_seconds": 600,
    }
    return RunFactory(agent=agent, **{**defaults, **fields})


def queued_run(agent: Any, actor: Any = None, **request: Any) -> Run:
    request.setdefault("input", "Please write a haiku")
    request.setdefault("cwd", "/srv/project")
    return run_start(request=RunRequest(agent=agent, **request), actor=actor)


def run_action(client: Any, action: str, runs: list[Run]) -> Any:
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(run.pk) for run in runs]},
        follow=True,
    )


def test_the_changelist_shows_runs_of_every_status(editor_admin, agent):
    for status in [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED]:
        make_run(agent, status=status, duration_ms=90_500, total_tokens=1234)

    response = editor_admin.get(CHANGELIST)

    body = response.content.decode()
    assert response.status_code == 200
    assert all(label in body for label in ["Queued", "Running", "Succeeded", "Failed"])
    assert "1m 30s" in body
    assert "1234" in body


def test_the_changelist_costs_the_same_queries_for_1_and_50_runs(editor_admin):
    def make_runs(count: int) -> None:
        for _ in range(count):
            make_run(AgentFactory(), created_by=UserFactory(), status=RunStatus.SUCCEEDED)

    assert_constant_queries(lambda: editor_admin.get(CHANGELIST), make_runs)


def test_the_changelist_finds_a_run_by_its_short_id_and_by_agent_slug(editor_admin, agent):
    wanted = make_run(agent, input="alpha")
    make_run(AgentFactory(slug="other_agent"), input="beta")

    by_id = editor_admin.get(CHANGELIST, {"q": str(wanted.pk)[:8]})
    by_slug = editor_admin.get(CHANGELIST, {"q": "other_agent"})

    assert list(by_id.context["cl"].result_list) == [wanted]
    assert [run.input for run in by_slug.context["cl"].result_list] == ["beta"]


def test_the_change_page_is_read_only_and_shows_the_steps(editor_admin, agent):
    run = make_run(agent, status=RunStatus.SUCCEEDED, result="All done")
    RunStep.objects.create(
        run=run,
        index=1,
        kind="llm_call",
        payload={"model": "gpt-4o-mini", "content": "hello"},
        prompt_tokens=12,
        completion_tokens=3,
        cost_usd=Decimal("0.000123"),
        latency_ms=420,
    )
    RunStep.objects.create(run=run, index=2, kind="final_answer", payload={"answer": "All done"})

    response = editor_admin.get(f"{CHANGELIST}{run.pk}/change/")

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in body
    assert '<textarea name="input"' not in body
    assert "<pre" in body
    for shown in ["&quot;model&quot;: &quot;gpt-4o-mini&quot;", "final_answer", "0.000123", "420"]:
        assert shown in body
    assert "All done" in body


def test_runs_cannot_be_added_in_the_admin(editor_admin, staff, client):
    assert editor_admin.get(f"{CHANGELIST}add/").status_code == 403
    client.force_login(staff)
    assert client.get(f"{CHANGELIST}add/").status_code == 403


def test_only_a_superuser_may_delete_a_run(editor_admin, agent):
    run = make_run(agent)

    assert editor_admin.get(f"{CHANGELIST}{run.pk}/delete/").status_code == 403
    assert Run.objects.filter(pk=run.pk).exists()


def test_run_again_starts_a_queued_admin_run_with_the_same_request(editor_admin, editor, agent):
    original = make_run(
        agent,
        status=RunStatus.FAILED,
        input="Review the diff",
        cwd="/srv/other",
        max_steps=7,
        max_tokens=5000,
        source=RunSource.API,
        finished_at=timezone.now(),
    )

    response = run_action(editor_admin, "run_again", [original])

    again = Run.objects.exclude(pk=original.pk).get()
    assert response.status_code == 200
    assert (again.status, again.source, again.created_by) == (
        RunStatus.QUEUED,
        RunSource.ADMIN,
        editor,
    )
    assert (again.input, again.cwd, again.max_steps, again.max_tokens) == (
        "Review the diff",
        "/srv/other",
        7,
        5000,
    )
    assert f"/admin/runs/run/{again.pk}/change/" in response.content.decode()


def test_run_again_reports_an_inactive_agent_as_an_error(editor_admin, agent):
    original = make_run(agent, status=RunStatus.SUCCEEDED)
    agent.is_active = False
    agent.save()

    response = run_action(editor_admin, "run_again", [original])

    assert response.status_code == 200
    assert "is not active" in response.content.decode()
    assert Run.objects.count() == 1


def test_cancel_cancels_a_queued_run(editor_admin, editor, agent):
    run = queued_run(agent, actor=editor)

    response = run_action(editor_admin, "cancel", [run])

    assert response.status_code == 200
    assert Run.objects.get(pk=run.pk).status == RunStatus.CANCELLED
    assert "Cancelled 1 run(s)" in response.content.decode()


def test_cancel_reports_a_finished_run_as_already_finished(editor_admin, agent):
    run = make_run(agent, status=RunStatus.SUCCEEDED, finished_at=timezone.now())

    response = run_action(editor_admin, "cancel", [run])

    assert response.status_code == 200
    assert "already finished" in response.content.decode()
    assert Run.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED


def test_a_user_without_staff_status_cannot_reach_the_runs_admin(client, viewer):
    client.force_login(viewer)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [(None, "—"), (850, "850 ms"), (12_340, "12.3 s"), (185_000, "3m 05s"), (3_720_000, "1h 02m")],
)
def test_durations_read_as_humans_say_them(milliseconds, text):
    assert human_duration(milliseconds) == text
