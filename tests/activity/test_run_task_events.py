import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from apps.activity.models import TaskEvent
from apps.runs.models import RunSource
from apps.streams.broadcast import broadcast_task_event
from tests.factories import RunFactory
from tests.fakes import llm_server as llm
from tests.runs.helpers import start
from tests.streams.sockets import open_socket


def stored_types(run_id: str) -> list[str]:
    events = TaskEvent.objects.filter(run_id=run_id).order_by("created_at", "id")
    return list(events.values_list("type", flat=True))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_runs_life_is_stored_from_task_submitted_to_task_completed(
    viewer, viewer_client, native_agent, fake_llm
):
    fake_llm.script(llm.text("All   clear."))

    run = start(viewer_client, "native", input="Summarise   the\nlog")

    assert stored_types(run["id"]) == [
        "task_submitted",
        "task_picked",
        "task_started",
        "task_completed",
    ]
    done = TaskEvent.objects.get(run_id=run["id"], type="task_completed")
    assert (done.audience_id, done.councilor) == (viewer.pk, False)
    assert done.data["run_id"] == run["id"]
    assert done.data["agent"] == {"slug": "native", "name": native_agent.name, "emoji": "🤖"}
    assert (done.data["status"], done.data["severity"]) == ("succeeded", "info")
    assert done.data["summary"] == "All clear."
    assert done.data["duration_ms"] == done.run.duration_ms
    assert {"screenplay", "conversation", "instance"} <= set(done.data)
    submitted = TaskEvent.objects.get(run_id=run["id"], type="task_submitted")
    assert submitted.data["summary"] == "Summarise the log"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_a_failed_run_is_stored_ending_with_a_task_error(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.error(400, "the prompt is too long"))

    run = start(viewer_client, "native")

    assert stored_types(run["id"])[-1] == "task_error"
    error = TaskEvent.objects.get(run_id=run["id"], type="task_error")
    assert (error.data["status"], error.data["severity"]) == ("failed", "error")
    assert "the prompt is too long" in error.data["summary"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("eager_celery")
def test_the_stored_run_events_are_the_feed_its_owner_reads(viewer_client, native_agent, fake_llm):
    fake_llm.script(llm.text("Done."))
    run = start(viewer_client, "native")

    feed = viewer_client.get("/api/tasks/events/").json()["results"]

    assert [event["type"] for event in feed] == [
        "task_completed",
        "task_started",
        "task_picked",
        "task_submitted",
    ]
    assert {event["data"]["run_id"] for event in feed} == {run["id"]}


@pytest.mark.django_db
def test_a_councilor_run_is_stored_as_a_councilor_event():
    run = RunFactory(source=RunSource.COUNCILOR)

    broadcast_task_event(run, "task_started")

    event = TaskEvent.objects.get(run=run)
    assert (event.type, event.councilor, event.audience_id) == ("task_started", True, None)


@pytest.mark.django_db
def test_a_rolled_back_transition_leaves_no_task_event(viewer):
    run = RunFactory(created_by=viewer)

    def failing_transition() -> None:
        with transaction.atomic():
            broadcast_task_event(run, "task_started")
            raise RuntimeError("the transition failed")

    with pytest.raises(RuntimeError):
        failing_transition()

    assert not TaskEvent.objects.exists()


@pytest.mark.django_db
def test_a_deleted_run_keeps_its_task_events(viewer):
    run = RunFactory(created_by=viewer)
    run_id = str(run.pk)
    broadcast_task_event(run, "task_submitted")

    run.delete()

    event = TaskEvent.objects.get()
    assert (event.run_id, event.data["run_id"]) == (None, run_id)


@pytest.mark.django_db(transaction=True)
async def test_the_broadcast_of_a_run_event_names_the_stored_event(viewer):
    _, _, socket = await open_socket(viewer, "/ws/gamification/")
    await socket.receive_json_from(timeout=2)
    run = await sync_to_async(RunFactory)(created_by=viewer)

    await sync_to_async(broadcast_task_event)(run, "task_submitted")
    message = await socket.receive_json_from(timeout=2)

    stored = await TaskEvent.objects.aget(run_id=run.pk)
    assert message["payload"]["id"] == stored.pk
    assert message["payload"]["event"] == "task_submitted"
    assert message["payload"]["run_id"] == str(run.pk)
    await socket.disconnect()
