import pytest

from apps.runs.models import Approval, ApprovalStatus
from apps.tools.models import ToolExecution
from tests.runs.conftest import decide
from tests.runs.helpers import finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def test_staff_approve_in_the_admin_and_the_run_resumes(paused, client, editor, viewer_client):
    client.force_login(editor)
    approval = Approval.objects.get()

    response = client.post(
        "/admin/runs/approval/",
        {"action": "approve", "_selected_action": [str(approval.pk)]},
        follow=True,
    )

    approval.refresh_from_db()
    assert response.status_code == 200
    assert approval.status == ApprovalStatus.APPROVED
    assert approval.resolved_by == editor
    assert finished(viewer_client, paused["id"])["status"] == "succeeded"


def test_a_decided_approval_is_reported_not_a_500(paused, client, editor, staff_client):
    decide(staff_client, paused, "deny")
    client.force_login(editor)
    approval = Approval.objects.get()

    response = client.post(
        "/admin/runs/approval/",
        {"action": "approve", "_selected_action": [str(approval.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    assert "already" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.DENIED


def test_the_audit_trail_is_listed_in_the_admin(client, staff):
    ToolExecution.objects.create(tool="web_fetch", arguments={}, success=False, error="blocked")
    client.force_login(staff)

    page = client.get("/admin/tools/toolexecution/?success__exact=0")

    assert page.status_code == 200
    assert "web_fetch" in page.content.decode()
    assert client.get("/admin/tools/toolexecution/add/").status_code == 403
