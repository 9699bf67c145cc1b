import pytest

from apps.streams.broadcast import broadcast_task_event
from tests.factories import RunFactory, TaskEventFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/activity/taskevent/"


def test_editors_browse_task_events_with_agent_and_summary(admin_client, viewer):
    broadcast_task_event(RunFactory(created_by=viewer, input="Index the wiki"), "task_submitted")

    response = admin_client.get(CHANGELIST)

    assert response.status_code == 200
    assert b"Index the wiki" in response.content
    assert b"task_submitted" in response.content


def test_the_changelist_searches_summaries_and_filters_by_type_and_councilor(admin_client):
    TaskEventFactory(data={"summary": "deploy the docs"}, councilor=True)
    TaskEventFactory(data={"summary": "water the plants"}, type="task_error")

    found = admin_client.get(f"{CHANGELIST}?q=docs").context["cl"].result_count
    councilors = admin_client.get(f"{CHANGELIST}?councilor__exact=1").context["cl"].result_count
    errors = admin_client.get(f"{CHANGELIST}?type__exact=task_error").context["cl"].result_count

    assert (found, councilors, errors) == (1, 1, 1)


def test_task_events_are_read_only_in_the_admin(admin_client):
    event = TaskEventFactory()

    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    response = admin_client.post(f"/admin/activity/taskevent/{event.pk}/change/", {"type": "x"})
    assert response.status_code == 403


def test_the_changelist_costs_the_same_queries_for_1_or_50_events(admin_client, viewer):
    def run_events(count: int) -> None:
        for _ in range(count):
            broadcast_task_event(RunFactory(created_by=viewer), "task_started")

    assert_constant_queries(lambda: admin_client.get(CHANGELIST), run_events)
