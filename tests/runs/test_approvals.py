from datetime import timedelta

import pytest
from django.utils import timezone

from apps.runs.models import Approval, Run, RunStatus
from apps.runs.tasks import reap_stale_runs
from apps.tools.models import ToolExecution
from tests.fakes import llm_server as llm
from tests.runs.conftest import CALLS, decide
from tests.runs.helpers import event_names, finished, start, without_deltas

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def test_a_tool_that_needs_approval_pauses_the_run_and_frees_the_worker(paused, fake_llm):
    # The eager task has returned: no worker waits for the human.
    assert paused["status"] == "requires_approval"
    (approval,) = paused["approvals"]
    assert approval["tool"] == "dangerous"
    assert approval["arguments"] == {"target": "prod"}
    assert approval["status"] == "pending"
    assert approval["expires_at"] > approval["requested_at"]
    assert without_deltas(event_names(paused["id"]))[-2:] == ["tool.called", "approval.required"]
    assert CALLS == []
    assert len(fake_llm.requests) == 1


def test_approving_resumes_the_run_in_a_new_task_and_runs_the_tool(
    paused, staff_client, viewer_client
):
    response = decide(staff_client, paused, "approve", "looks fine")

    run = finished(viewer_client, paused["id"])
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["resolved_by"] == "staff"
    assert run["status"] == "succeeded", run
    assert run["result"] == "Finished."
    assert CALLS == [{"target": "prod"}]
    assert "approval" in [step["kind"] for step in run["steps"]]
    names = without_deltas(event_names(paused["id"]))
    assert names[-4:] == ["approval.resolved", "tool.result", "llm.completed", "run.succeeded"]


def test_denying_records_the_denial_as_the_observation(
    paused, staff_client, viewer_client, fake_llm
):
    decide(staff_client, paused, "deny", "not on production")

    run = finished(viewer_client, paused["id"])
    assert run["status"] == "succeeded"
    assert CALLS == []
    observation = fake_llm.requests[1]["messages"][-1]["content"]
    assert "not approved" in observation
    assert "not on production" in observation
    assert run["approvals"][0]["status"] == "denied"


def test_only_staff_decide(paused, viewer_client, other_user, api_client):
    api_client.force_authenticate(other_user)

    assert decide(viewer_client, paused, "approve").status_code == 403
    assert decide(api_client, paused, "approve").status_code == 404
    assert Approval.objects.get().status == "pending"


@pytest.mark.parametrize("body", [{"decision": "maybe"}, {}, {"decision": "approve", "reason": 7}])
def test_a_bad_decision_is_a_400(paused, staff_client, body):
    approval_id = paused["approvals"][0]["id"]

    response = staff_client.post(
        f"/api/runs/{paused['id']}/approvals/{approval_id}/", body, format="json"
    )

    assert response.status_code == 400
    assert Approval.objects.get().status == "pending"


def test_an_unknown_approval_is_a_404(paused, staff_client):
    response = staff_client.post(
        f"/api/runs/{paused['id']}/approvals/00000000-0000-0000-0000-000000000000/",
        {"decision": "approve"},
        format="json",
    )

    assert response.status_code == 404


def test_deciding_twice_is_a_409(paused, staff_client):
    decide(staff_client, paused, "approve")

    response = decide(staff_client, paused, "deny")

    assert response.status_code == 409
    assert response.json()["error"]["code"] in {"approval_already_resolved"}


def test_an_expired_approval_counts_as_denied(paused, staff_client, viewer_client):
    Approval.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = decide(staff_client, paused, "approve")

    run = finished(viewer_client, paused["id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "approval_expired"
    assert run["approvals"][0]["status"] == "expired"
    assert run["status"] == "succeeded"
    assert CALLS == []


def test_the_reaper_expires_approvals_nobody_decided(paused, viewer_client):
    Approval.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    reap_stale_runs()

    run = finished(viewer_client, paused["id"])
    assert run["approvals"][0]["status"] == "expired"
    assert run["status"] == "succeeded"
    assert CALLS == []


def test_a_waiting_run_is_never_reaped_as_lost(paused):
    Run.objects.filter(pk=paused["id"]).update(heartbeat_at=timezone.now() - timedelta(hours=2))

    reap_stale_runs()

    assert Run.objects.get(pk=paused["id"]).status == RunStatus.REQUIRES_APPROVAL


def test_cancelling_a_waiting_run_ends_it(paused, viewer_client, staff_client):
    response = viewer_client.post(f"/api/runs/{paused['id']}/cancel/")

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    assert decide(staff_client, paused, "approve").status_code == 409
    assert CALLS == []


def test_a_pre_approved_tool_runs_at_once_and_the_approval_is_recorded(
    viewer_client, careful_agent, fake_llm
):
    careful_agent.pre_approved_tools = ["dangerous"]
    careful_agent.save()
    fake_llm.script(llm.tool_call("dangerous", {"target": "staging"}), llm.text("Done."))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    assert run["status"] == "succeeded"
    assert CALLS == [{"target": "staging"}]
    (approval,) = run["approvals"]
    assert approval["status"] == "pre_approved"
    assert "agent's config" in approval["reason"]
    assert "approval.required" not in event_names(run["id"])


def test_every_tool_execution_is_audited_with_secrets_redacted(
    viewer, viewer_client, native_agent, fake_llm
):
    arguments = {
        "text": "hi",
        "api_key": "sk-123",
        "nested": {"Password": "p4ss"},
        "Authorization": "x",
    }
    fake_llm.script(llm.tool_call("echo", arguments), llm.text("ok"))

    run = finished(viewer_client, start(viewer_client, "native")["id"])

    (execution,) = ToolExecution.objects.filter(run_id=run["id"])
    assert execution.tool == "echo"
    assert execution.arguments == {
        "text": "hi",
        "api_key": "[redacted]",
        "nested": {"Password": "[redacted]"},
        "Authorization": "[redacted]",
    }
    assert "sk-123" not in execution.output_summary
    assert execution.success is True
    assert execution.user == viewer
