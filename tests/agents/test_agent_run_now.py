from __future__ import annotations

from typing import Any

import pytest

from apps.agents.models import Agent
from apps.runs.models import Run, RunSource, RunStatus
from apps.runtime.providers import DEMO_MODEL
from tests.factories import AgentFactory, ScreenplayFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/agents/agent/"


@pytest.fixture
def agents(db) -> list[Agent]:
    return [AgentFactory(slug="writer"), AgentFactory(slug="reviewer")]


def run_now(client: Any, agents: list[Agent], **form: Any) -> Any:
    data = {"action": "run_now", "_selected_action": [agent.pk for agent in agents], **form}
    return client.post(CHANGELIST, data, follow=True)


def submit(client: Any, agents: list[Agent], **form: Any) -> Any:
    form.setdefault("context_mode", "stateless")
    return run_now(client, agents, apply="Start runs", **form)


def test_choosing_run_now_shows_a_form_for_the_selected_agents(editor_admin, agents):
    AgentFactory(slug="bystander")

    response = run_now(editor_admin, agents)

    body = response.content.decode()
    assert response.status_code == 200
    assert "writer" in body
    assert "reviewer" in body
    assert "bystander" not in body
    for field in ["input", "cwd", "screenplay", "context_mode", "apply"]:
        assert f'name="{field}"' in body
    assert 'value="run_now"' in body
    assert not Run.objects.exists()


def test_submitting_starts_one_queued_admin_run_per_agent(editor_admin, editor, agents):
    response = submit(editor_admin, agents, input="Draft the release notes", cwd="/srv/app")

    runs = Run.objects.order_by("agent__slug")
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert [run.agent.slug for run in runs] == ["reviewer", "writer"]
    assert {(run.status, run.source, run.created_by, run.input, run.cwd) for run in runs} == {
        (RunStatus.QUEUED, RunSource.ADMIN, editor, "Draft the release notes", "/srv/app")
    }
    body = response.content.decode()
    assert "Started 2 run(s)" in body
    assert all(f"/admin/runs/run/{run.pk}/change/" in body for run in runs)


def test_a_screenplay_supplies_the_working_directory(editor_admin, agents):
    screenplay = ScreenplayFactory(name="Docs", working_directory="/srv/docs")

    submit(editor_admin, agents[:1], input="Tidy the docs", screenplay=screenplay.pk)

    run = Run.objects.get()
    assert (run.screenplay, run.cwd) == (screenplay, "/srv/docs")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"input": "", "cwd": "/srv/app"}, "This field is required."),
        ({"input": "Go", "cwd": "relative/path"}, "Use an absolute path"),
    ],
)
def test_an_invalid_form_is_shown_again_with_its_errors(editor_admin, agents, form, error):
    response = submit(editor_admin, agents, **form)

    body = response.content.decode()
    assert response.status_code == 200
    assert response.redirect_chain == []
    assert error in body
    assert 'name="apply"' in body
    assert not Run.objects.exists()


def test_a_missing_working_directory_becomes_an_error_message(editor_admin, agents):
    response = submit(editor_admin, agents, input="Go")

    body = response.content.decode()
    assert response.status_code == 200
    assert "No working directory" in body
    assert 'name="apply"' in body, "nothing started: the form stays to be corrected"
    assert not Run.objects.exists()


def test_an_inactive_agent_is_reported_while_the_others_start(editor_admin, agents):
    agents[0].is_active = False
    agents[0].save()

    response = submit(editor_admin, agents, input="Go", cwd="/srv/app")

    body = response.content.decode()
    assert "is not active" in body
    assert "Started 1 run(s)" in body
    assert [run.agent for run in Run.objects.all()] == [agents[1]]


def test_a_viewer_without_staff_status_cannot_run_agents(client, viewer, agents):
    client.force_login(viewer)

    response = submit(client, agents, input="Go", cwd="/srv/app")

    assert "/admin/login/" in response.redirect_chain[-1][0]
    assert not Run.objects.exists()


def test_the_changelist_labels_the_offline_demo_model(editor_admin):
    AgentFactory(slug="demo", model=DEMO_MODEL)
    AgentFactory(slug="real", model="gpt-4o-mini")

    body = editor_admin.get(CHANGELIST).content.decode()

    assert f"{DEMO_MODEL} (offline demo)" in body
    assert "gpt-4o-mini (offline demo)" not in body
