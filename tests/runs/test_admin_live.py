"""The run's live page in the admin, and the admin view that starts a run and opens it.

What the page shows as events arrive is exercised in a real browser by
tests/browser/test_live_run_page.py; these tests cover what the server renders.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders

from apps.runs.models import Run, RunSource, RunStatus
from apps.runs.services import RunRequest, run_start
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/runs/run/"
START = "/admin/runs/run/start/"


@pytest.fixture
def agent(db):
    return AgentFactory(slug="writer", name="Writer")


@pytest.fixture
def run(agent, editor) -> Run:
    request = RunRequest(agent=agent, input="Please write a haiku", cwd="/srv/project")
    return run_start(request=request, actor=editor)


@pytest.fixture
def watcher(db):
    """Staff who may look at runs, and nothing else."""
    user = UserFactory(username="watcher", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    return user


def change_page(run: Run) -> str:
    return f"/admin/runs/run/{run.pk}/change/"


def page_for(client: Any, user: Any, run: Run) -> Any:
    client.force_login(user)
    return client.get(change_page(run))


def start(client: Any, **form: Any) -> Any:
    form.setdefault("context_mode", "stateless")
    return client.post(START, form, follow=True)


# --- The live page -------------------------------------------------------------------


def test_the_run_page_holds_a_live_panel_wired_to_the_runs_socket(client, editor, run):
    response = page_for(client, editor, run)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="run-live"' in body
    assert f'data-run-id="{run.pk}"' in body
    assert f'data-socket-path="/ws/runs/{run.pk}/"' in body
    assert f'data-api-url="/api/runs/{run.pk}/"' in body
    assert 'data-status="queued"' in body
    assert '<script src="/static/runs/live_run.js" defer></script>' in body
    assert 'href="/static/runs/live_run.css"' in body


def test_the_pages_script_and_style_exist():
    assert finders.find("runs/live_run.js") is not None
    assert finders.find("runs/live_run.css") is not None


def test_the_panel_starts_from_the_status_the_run_has_now(client, editor, run):
    Run.objects.filter(pk=run.pk).update(status=RunStatus.REQUIRES_APPROVAL)

    body = page_for(client, editor, run).content.decode()

    assert 'data-status="requires_approval">Requires Approval<' in body


def test_staff_who_may_decide_approvals_get_the_approve_and_deny_buttons(client, editor, run):
    body = page_for(client, editor, run).content.decode()

    assert 'id="run-live-decision"' in body
    assert 'data-decision="approve">Approve</button>' in body
    assert 'data-decision="deny">Deny</button>' in body


def test_staff_who_may_only_watch_runs_see_the_panel_without_decision_buttons(client, watcher, run):
    response = page_for(client, watcher, run)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="run-live"' in body
    assert 'id="run-live-decision"' not in body
    assert "data-decision=" not in body


def test_a_user_without_staff_status_is_sent_to_the_login_page(client, viewer, run):
    response = page_for(client, viewer, run)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_permission_on_runs_cannot_open_the_page(client, run):
    response = page_for(client, UserFactory(username="bystander", is_staff=True), run)

    assert response.status_code == 403
    assert str(run.pk) not in response.content.decode()


# --- Starting a run from the admin -----------------------------------------------------


def test_the_changelist_offers_to_start_a_run_to_those_who_may(client, editor, watcher):
    client.force_login(editor)
    assert f'href="{START}"' in client.get(CHANGELIST).content.decode()

    client.force_login(watcher)
    assert f'href="{START}"' not in client.get(CHANGELIST).content.decode()


def test_the_start_form_lists_the_active_agents(client, editor, agent):
    AgentFactory(slug="retired", name="Retired", is_active=False)
    client.force_login(editor)

    response = client.get(START)

    body = response.content.decode()
    assert response.status_code == 200
    assert "writer" in body
    assert "retired" not in body
    for field in ["agent", "input", "cwd", "screenplay", "context_mode"]:
        assert f'name="{field}"' in body


def test_starting_a_run_opens_its_live_page(client, editor, agent):
    client.force_login(editor)

    response = start(client, agent=agent.pk, input="Draft the notes", cwd="/srv/app")

    run = Run.objects.get()
    assert response.redirect_chain == [(change_page(run), 302)]
    assert (run.agent, run.input, run.cwd) == (agent, "Draft the notes", "/srv/app")
    assert (run.status, run.source, run.created_by) == (RunStatus.QUEUED, RunSource.ADMIN, editor)
    body = response.content.decode()
    assert f'data-run-id="{run.pk}"' in body
    assert f"Started run {str(run.pk)[:8]}" in body


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"input": ""}, "This field is required."),
        ({"input": "   "}, "This field is required."),
        ({"agent": 987654}, "Unknown or inactive agent: choose one from the list."),
        ({"agent": "writer"}, "Unknown or inactive agent: choose one from the list."),
        ({"cwd": "relative/path"}, "Use an absolute path"),
    ],
)
def test_bad_input_is_shown_again_with_its_error(client, editor, agent, form, error):
    client.force_login(editor)

    response = start(client, **{"agent": agent.pk, "input": "Go", "cwd": "/srv/app", **form})

    body = response.content.decode()
    assert response.status_code == 200
    assert response.redirect_chain == []
    assert error in body
    assert 'id="run-start-form"' in body
    assert not Run.objects.exists()


def test_an_inactive_agent_cannot_be_started(client, editor, agent):
    agent.is_active = False
    agent.save()
    client.force_login(editor)

    response = start(client, agent=agent.pk, input="Go", cwd="/srv/app")

    assert "Unknown or inactive agent" in response.content.decode()
    assert not Run.objects.exists()


def test_what_the_service_refuses_is_shown_above_the_form(client, editor, agent):
    client.force_login(editor)

    response = start(client, agent=agent.pk, input="Go")

    body = response.content.decode()
    assert response.status_code == 200
    assert "No working directory" in body
    assert 'id="run-start-form"' in body
    assert not Run.objects.exists()


def test_a_user_without_staff_status_cannot_start_runs(client, viewer, agent):
    client.force_login(viewer)

    response = client.post(START, {"agent": agent.pk, "input": "Go", "cwd": "/srv/app"})

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Run.objects.exists()


def test_staff_without_permission_to_start_runs_cannot_use_the_start_form(client, watcher, agent):
    client.force_login(watcher)

    response = client.post(START, {"agent": agent.pk, "input": "Go", "cwd": "/srv/app"})

    assert response.status_code == 403
    assert not Run.objects.exists()
