from datetime import timedelta

import pytest
from django.utils import timezone

from apps.streams.broadcast import broadcast_task_event
from tests.envelope import assert_envelope
from tests.factories import RunFactory, TaskEventFactory
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

FEED = "/api/tasks/events/"


def events_at(count: int, **fields) -> list:
    """``count`` events, a minute apart, the last one newest."""
    start = timezone.now() - timedelta(hours=1)
    return [
        TaskEventFactory(created_at=start + timedelta(minutes=n), **fields) for n in range(count)
    ]


def feed(client, query: str = "") -> list[dict]:
    response = client.get(f"{FEED}?{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_feed_is_newest_first_as_type_data_and_timestamp(viewer_client):
    oldest, newest = events_at(2)

    results = feed(viewer_client)

    assert [event["id"] for event in results] == [newest.pk, oldest.pk]
    assert results[0] == {
        "id": newest.pk,
        "type": "task_completed",
        "data": newest.data,
        "timestamp": newest.created_at.isoformat().replace("+00:00", "Z"),
    }


def test_the_feed_shows_50_events_unless_asked_for_up_to_200(viewer_client):
    events_at(210)

    assert len(feed(viewer_client)) == 50
    assert len(feed(viewer_client, "limit=1")) == 1
    assert len(feed(viewer_client, "limit=200")) == 200


@pytest.mark.parametrize("limit", ["0", "-1", "201", "abc", "1.5"])
def test_a_limit_outside_1_to_200_or_not_an_integer_is_a_400(viewer_client, limit):
    error = assert_envelope(viewer_client.get(f"{FEED}?limit={limit}"), 400, "validation_error")

    assert "limit" in error["details"]


def test_councilor_and_regular_events_can_each_be_left_out(viewer_client):
    regular = TaskEventFactory(councilor=False)
    councilor = TaskEventFactory(councilor=True)

    both = {event["id"] for event in feed(viewer_client)}
    no_councilors = {event["id"] for event in feed(viewer_client, "include_councilors=false")}
    only_councilors = {event["id"] for event in feed(viewer_client, "include_regular=false")}
    neither = feed(viewer_client, "include_councilors=false&include_regular=false")

    assert both == {regular.pk, councilor.pk}
    assert no_councilors == {regular.pk}
    assert only_councilors == {councilor.pk}
    assert neither == []


@pytest.mark.parametrize("query", ["include_councilors=maybe", "include_regular=2"])
def test_a_bad_boolean_is_a_400(viewer_client, query):
    error = assert_envelope(viewer_client.get(f"{FEED}?{query}"), 400, "validation_error")

    assert query.split("=")[0] in error["details"]


def test_another_users_run_events_are_hidden_from_a_viewer(viewer, other_user, viewer_client):
    theirs = RunFactory(created_by=other_user, input="their secret plan")
    mine = RunFactory(created_by=viewer)
    broadcast_task_event(theirs, "task_submitted")
    broadcast_task_event(mine, "task_submitted")
    public = TaskEventFactory(audience=None)

    results = feed(viewer_client)

    assert {event["data"].get("run_id") for event in results} == {str(mine.pk), None}
    assert public.pk in {event["id"] for event in results}
    assert "their secret plan" not in str(results)


def test_staff_see_every_users_run_events(other_user, viewer, staff_client):
    broadcast_task_event(RunFactory(created_by=other_user), "task_submitted")
    broadcast_task_event(RunFactory(created_by=viewer), "task_submitted")
    TaskEventFactory(audience=None)

    assert len(feed(staff_client)) == 3


def test_the_feed_needs_a_signed_in_user(api_client):
    assert_envelope(api_client.get(FEED), 401, "not_authenticated")


def test_the_feed_costs_the_same_queries_for_1_or_50_events(viewer, viewer_client):
    assert_constant_queries(
        lambda: viewer_client.get(f"{FEED}?limit=200"),
        lambda n: events_at(n, audience=viewer),
    )
