"""A councilor run end to end: the fake LLM answers, eager Celery executes."""

import pytest

from apps.conversations.models import Message
from apps.councilors.models import CouncilorTick
from apps.runs.models import Run
from tests.councilors.helpers import CouncilorListener
from tests.factories import ScreenplayFactory
from tests.fakes import llm_server as llm

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


@pytest.fixture
def listener():
    listening = CouncilorListener()
    yield listening
    listening.close()


def execute_now(client, councilor) -> Run:
    response = client.post(f"/api/councilors/{councilor.pk}/execute-now/")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "succeeded" or body["status"] == "failed"
    return Run.objects.get(pk=body["run_id"])


def test_a_run_posts_the_prompt_and_the_answer_to_the_conversation(
    editor_client, councilor, fake_llm
):
    fake_llm.script(llm.text("All services are up.\nSEVERITY: info"))

    run = execute_now(editor_client, councilor)

    messages = Message.objects.filter(conversation=councilor.instance.conversation)
    assert [(m.type, m.content, m.status) for m in messages] == [
        ("user", councilor.task_prompt, "completed"),
        ("bot", "All services are up.", "completed"),
    ]
    assert all(m.run_id == run.pk for m in messages)
    assert run.source == "councilor"
    assert run.cwd == "/srv/councilors/uptime"
    assert run.created_by is None


def test_the_run_counts_in_the_instance_statistics(editor_client, councilor, fake_llm):
    fake_llm.script(llm.text("Fine.\nSEVERITY: info"))

    execute_now(editor_client, councilor)

    instance = councilor.instance
    instance.refresh_from_db()
    assert (instance.task_count, instance.success_count, instance.error_count) == (1, 1, 0)
    assert instance.last_exit_status == "succeeded"


def test_the_prompt_carries_the_task_and_the_context_screenplays(
    editor, editor_client, councilor, fake_llm
):
    runbook = ScreenplayFactory(name="Runbook", content="# Runbook\n\nRestart the cache first.\n")
    councilor.context_screenplays.add(runbook)
    fake_llm.script(llm.text("Nothing to report.\nSEVERITY: info"))

    execute_now(editor_client, councilor)

    sent = fake_llm.requests[0]["messages"][-1]["content"]
    assert councilor.task_prompt in sent
    assert "Restart the cache first." in sent
    assert "SEVERITY: info" in sent


@pytest.mark.parametrize(
    ("answer", "severity"),
    [
        pytest.param("Disk at 85%.\nSEVERITY: warning", "warning", id="marker-warning"),
        pytest.param("The database is down.\nSEVERITY: error", "error", id="marker-error"),
        pytest.param("Looks broken but fine.\n**SEVERITY:** info", "info", id="marker-wins"),
        pytest.param("The nightly backup failed twice.", "error", id="keyword-error"),
        pytest.param("Response times are degraded.", "warning", id="keyword-warning"),
        pytest.param("No errors found; all green.", "info", id="keyword-none"),
    ],
)
def test_severity_comes_from_the_marker_else_from_keywords(
    editor_client, councilor, fake_llm, answer, severity
):
    fake_llm.script(llm.text(answer))

    run = execute_now(editor_client, councilor)

    run.refresh_from_db()
    assert run.severity == severity
    report = editor_client.get(f"/api/councilors/{councilor.pk}/reports/").json()
    assert report["last_run"]["severity"] == severity
    detail = editor_client.get(f"/api/councilors/{councilor.pk}/").json()
    assert detail["last_severity"] == severity


def test_started_then_completed_are_broadcast(editor_client, councilor, fake_llm, listener):
    councilor.display_name = "Watcher"
    councilor.save()
    fake_llm.script(llm.text("Latency is degraded.\nSEVERITY: warning"))

    run = execute_now(editor_client, councilor)

    events = [m for m in listener.received() if m["type"].startswith("councilor.")]
    assert [event["type"] for event in events] == ["councilor.started", "councilor.completed"]
    started, completed = events
    assert started["councilor_id"] == completed["councilor_id"] == councilor.pk
    assert started["run_id"] == completed["run_id"] == str(run.pk)
    assert (completed["title"], completed["display_name"]) == ("Uptime watch", "Watcher")
    assert completed["severity"] == "warning"
    assert completed["summary"] == "Latency is degraded."
    assert completed["notify"] is True  # notify_on_warning defaults to on
    assert started["severity"] is None


def test_a_failed_run_is_broadcast_as_an_error(editor_client, councilor, fake_llm, listener):
    fake_llm.script(llm.error(500, "upstream exploded"))

    run = execute_now(editor_client, councilor)

    run.refresh_from_db()
    assert (run.status, run.severity) == ("failed", "error")
    events = [m["type"] for m in listener.received() if m["type"].startswith("councilor.")]
    assert events == ["councilor.started", "councilor.error"]
    bot = Message.objects.get(conversation=councilor.instance.conversation, type="bot")
    assert bot.status == "error"
    councilor.instance.refresh_from_db()
    assert councilor.instance.error_count == 1


def test_the_report_counts_runs_and_the_success_rate(editor_client, councilor, fake_llm):
    fake_llm.script(llm.text("Fine.\nSEVERITY: info"), llm.error(500, "boom"))

    first = execute_now(editor_client, councilor)
    second = execute_now(editor_client, councilor)

    report = editor_client.get(f"/api/councilors/{councilor.pk}/reports/").json()
    assert report["total_runs"] == 2
    assert report["success_rate"] == 0.5
    assert [run["id"] for run in report["recent_runs"]] == [str(second.pk), str(first.pk)]
    assert report["last_run"]["status"] == "failed"
    assert report["next_run_at"] is not None
    assert [tick["outcome"] for tick in report["recent_ticks"]] == ["started", "started"]
    assert CouncilorTick.objects.filter(trigger="manual").count() == 2


def test_a_beat_tick_starts_a_run(councilor, fake_llm):
    from apps.councilors.tasks import councilor_tick

    fake_llm.script(llm.text("Fine.\nSEVERITY: info"))

    councilor_tick.delay(councilor.pk)

    tick = CouncilorTick.objects.get(councilor=councilor)
    assert (tick.trigger, tick.outcome) == ("schedule", "started")
    assert tick.run.status == "succeeded"


def test_a_tick_for_a_demoted_councilor_does_nothing(councilor, editor):
    from apps.councilors import services
    from apps.councilors.tasks import councilor_tick

    services.councilor_demote(councilor=councilor, actor=editor)

    councilor_tick.delay(councilor.pk)

    assert not Run.objects.exists()
