from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from apps.agents.models import Agent
from apps.runs import events, services
from apps.runs.models import Run
from apps.streams.broadcast import (
    broadcast_councilor_event,
    broadcast_councilor_status,
    broadcast_to_gamification,
    broadcast_tool_summary,
    task_event,
)
from tests.factories import RunFactory
from tests.fakes import llm_server as llm
from tests.streams.sockets import open_socket as open_streams_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def open_socket(user, path: str = "/ws/gamification/") -> tuple[bool, Any, Any]:
    return await open_streams_socket(user, path)


async def subscribed_socket(user, topics: list[str]) -> WebsocketCommunicator:
    _, _, communicator = await open_socket(user)
    await communicator.receive_json_from(timeout=2)
    await communicator.send_json_to({"type": "subscribe", "topics": topics})
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "subscribed",
        "topics": sorted(topics),
    }
    return communicator


@sync_to_async
def tool_envelopes(user) -> list[dict[str, Any]]:
    run = RunFactory(created_by=user)
    called = services.run_event_emit(
        run, events.TOOL_CALLED, {"id": "c1", "tool": "shell", "arguments": {"cmd": "ls"}}
    )
    result = services.run_event_emit(
        run,
        events.TOOL_RESULT,
        {"id": "c1", "tool": "shell", "success": True, "result": "a b", "duration_ms": 12},
    )
    return [services.event_envelope(called), services.event_envelope(result)]


@pytest.mark.parametrize("path", ["/ws/gamification/", "/ws/councilors/"])
async def test_an_anonymous_client_is_closed_as_unauthenticated(path):
    connected, code, _ = await open_socket(None, path)

    assert (connected, code) == (False, 4401)


async def test_a_client_is_told_it_is_connected(viewer):
    connected, _, communicator = await open_socket(viewer)

    assert connected
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "connected",
        "topics": ["councilors", "tasks", "tools"],
    }
    await communicator.disconnect()


async def test_a_client_gets_every_topic_until_it_subscribes(viewer):
    _, _, communicator = await open_socket(viewer)
    await communicator.receive_json_from(timeout=2)

    await sync_to_async(broadcast_to_gamification)({"topic": "tasks", "payload": {"n": 1}})

    assert await communicator.receive_json_from(timeout=2) == {
        "type": "event",
        "topic": "tasks",
        "payload": {"n": 1},
    }
    await communicator.disconnect()


async def test_a_subscriber_gets_only_its_topics(viewer):
    communicator = await subscribed_socket(viewer, ["tools"])

    await sync_to_async(broadcast_to_gamification)({"topic": "councilors", "payload": {"n": 1}})
    await sync_to_async(broadcast_to_gamification)({"topic": "tools", "payload": {"n": 2}})

    assert await communicator.receive_json_from(timeout=2) == {
        "type": "event",
        "topic": "tools",
        "payload": {"n": 2},
    }
    assert await communicator.receive_nothing()
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "subscribe", "topics": ["tools", "gossip"]}, "unknown_topic"),
        ({"type": "subscribe", "topics": "tools"}, "malformed_message"),
        ({"type": "dance"}, "unknown_message"),
    ],
)
async def test_a_bad_message_gets_an_error(viewer, message, code):
    _, _, communicator = await open_socket(viewer)
    await communicator.receive_json_from(timeout=2)

    await communicator.send_json_to(message)
    reply = await communicator.receive_json_from(timeout=2)

    assert reply["type"] == "error"
    assert reply["error"]["code"] == code
    await communicator.disconnect()


async def test_ping_gets_a_pong(viewer):
    _, _, communicator = await open_socket(viewer)
    await communicator.receive_json_from(timeout=2)

    await communicator.send_json_to({"type": "ping"})

    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


async def test_stats_count_the_clients_and_the_events_sent_to_this_one(viewer, other_user):
    first = await subscribed_socket(viewer, ["tasks"])
    await first.send_json_to({"type": "get_stats"})
    before = await first.receive_json_from(timeout=2)

    second = await subscribed_socket(other_user, ["tasks"])
    await sync_to_async(broadcast_to_gamification)({"topic": "tasks", "payload": {}})
    await first.receive_json_from(timeout=2)
    await first.send_json_to({"type": "get_stats"})
    after = await first.receive_json_from(timeout=2)

    assert before["type"] == after["type"] == "stats"
    assert after["connected_clients"] == before["connected_clients"] + 1
    assert (before["events_sent"], after["events_sent"]) == (0, 1)
    await first.disconnect()
    await second.disconnect()


async def test_tool_events_of_runs_reach_subscribers_as_summaries(viewer):
    communicator = await subscribed_socket(viewer, ["tools"])

    # Emitting the run events is enough: publishing them broadcasts the summaries.
    called, _ = await tool_envelopes(viewer)
    first = await communicator.receive_json_from(timeout=2)
    second = await communicator.receive_json_from(timeout=2)

    assert first["topic"] == second["topic"] == "tools"
    assert first["payload"]["event"] == events.TOOL_CALLED
    assert first["payload"]["tool"] == "shell"
    assert first["payload"]["run_id"] == called["run_id"]
    assert "arguments" not in first["payload"]
    assert second["payload"]["event"] == events.TOOL_RESULT
    assert second["payload"]["success"] is True
    assert second["payload"]["duration_ms"] == 12
    assert "result" not in second["payload"]
    await communicator.disconnect()


async def test_other_run_events_are_not_broadcast_as_tool_summaries(viewer):
    communicator = await subscribed_socket(viewer, ["tools"])
    called, _ = await tool_envelopes(viewer)
    await communicator.receive_json_from(timeout=2)  # the tool.called summary
    await communicator.receive_json_from(timeout=2)  # the tool.result summary

    await sync_to_async(broadcast_tool_summary)(dict(called, event=events.LLM_DELTA))

    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_the_councilors_socket_forwards_status_messages(viewer):
    connected, _, communicator = await open_socket(viewer, "/ws/councilors/")
    assert await communicator.receive_json_from(timeout=2) == {"type": "connected"}

    await sync_to_async(broadcast_councilor_status)({"councilor": "ada", "status": "busy"})

    assert connected
    assert await communicator.receive_json_from(timeout=2) == {
        "type": "councilor.status",
        "councilor": "ada",
        "status": "busy",
    }
    await communicator.disconnect()


async def test_councilor_status_also_reaches_the_gamification_councilors_topic(viewer):
    communicator = await subscribed_socket(viewer, ["councilors"])

    await sync_to_async(broadcast_councilor_status)({"councilor": "ada", "status": "idle"})

    assert await communicator.receive_json_from(timeout=2) == {
        "type": "event",
        "topic": "councilors",
        "payload": {"event": "councilor.status", "councilor": "ada", "status": "idle"},
    }
    await communicator.disconnect()


@pytest.mark.parametrize("name", ["councilor.started", "councilor.completed", "councilor.error"])
async def test_councilor_run_events_reach_both_councilor_audiences(viewer, name):
    councilors = await open_socket(viewer, "/ws/councilors/")
    feed = await subscribed_socket(viewer, ["councilors"])
    assert await councilors[2].receive_json_from(timeout=2) == {"type": "connected"}

    await sync_to_async(broadcast_councilor_event)(name, {"councilor": 7, "run_id": "r1"})

    assert await councilors[2].receive_json_from(timeout=2) == {
        "type": name,
        "councilor": 7,
        "run_id": "r1",
    }
    assert await feed.receive_json_from(timeout=2) == {
        "type": "event",
        "topic": "councilors",
        "payload": {"event": name, "councilor": 7, "run_id": "r1"},
    }
    await councilors[2].disconnect()
    await feed.disconnect()


def test_only_the_three_councilor_run_events_can_be_broadcast():
    with pytest.raises(ValueError, match="not a councilor event"):
        broadcast_councilor_event("councilor.exploded", {})


# --- Task events and who sees them ----------------------------------------------


@sync_to_async
def run_to_the_end(user, agent: Agent) -> Run:
    """Starts a run of ``agent`` as ``user`` and executes it (Celery is eager)."""
    request = services.RunRequest(agent=agent, input="Summarise   the\nlog", cwd="/srv")
    run = services.run_start(request=request, actor=user)
    run.refresh_from_db()
    return run


async def receive_until(communicator: WebsocketCommunicator, event: str) -> list[dict[str, Any]]:
    payloads = []
    while not payloads or payloads[-1]["event"] != event:
        message = await communicator.receive_json_from(timeout=5)
        payloads.append(message["payload"])
    return payloads


@pytest.mark.usefixtures("eager_celery")
async def test_a_runs_life_reaches_the_tasks_topic(viewer, native_agent, fake_llm):
    fake_llm.script(llm.text("All   clear."))
    communicator = await subscribed_socket(viewer, ["tasks"])

    run = await run_to_the_end(viewer, native_agent)
    payloads = await receive_until(communicator, "task_completed")

    assert [payload["event"] for payload in payloads] == [
        "task_submitted",
        "task_picked",
        "task_started",
        "task_completed",
    ]
    done = payloads[-1]
    assert done["run_id"] == str(run.pk)
    assert done["agent"] == {
        "slug": native_agent.slug,
        "name": native_agent.name,
        "emoji": native_agent.emoji,
    }
    assert (done["status"], done["severity"], done["summary"]) == (
        "succeeded",
        "info",
        "All clear.",
    )
    assert done["duration_ms"] == run.duration_ms
    assert payloads[0]["summary"] == "Summarise the log"
    assert {"screenplay", "conversation", "instance", "timestamp"} <= set(done)
    await communicator.disconnect()


@pytest.mark.usefixtures("eager_celery")
async def test_a_failed_run_ends_with_a_task_error(viewer, native_agent, fake_llm):
    fake_llm.script(llm.error(400, "the prompt is too long"))
    communicator = await subscribed_socket(viewer, ["tasks"])

    await run_to_the_end(viewer, native_agent)
    error = (await receive_until(communicator, "task_error"))[-1]

    assert (error["status"], error["severity"]) == ("failed", "error")
    assert "the prompt is too long" in error["summary"]
    await communicator.disconnect()


@pytest.mark.usefixtures("eager_celery")
async def test_another_users_run_is_not_broadcast_to_a_viewer_but_is_to_staff(
    viewer, other_user, staff, native_agent, fake_llm
):
    fake_llm.script(llm.tool_call("echo", {"text": "hi"}), llm.text("Done."))
    spy = await subscribed_socket(viewer, ["tasks", "tools"])
    admin = await subscribed_socket(staff, ["tasks", "tools"])

    await run_to_the_end(other_user, native_agent)
    seen_by_staff = await receive_until(admin, "task_completed")

    assert {payload["event"] for payload in seen_by_staff} >= {"tool.called", "tool.result"}
    assert await spy.receive_nothing(timeout=0.5)
    await spy.disconnect()
    await admin.disconnect()


def test_a_task_summary_is_one_line_of_at_most_200_characters():
    run = Run(agent=Agent(slug="a", name="A"), input="word\n" * 100, result="", error="")

    summary = task_event(run, "task_submitted")["summary"]

    assert len(summary) == 200
    assert summary.endswith("…")
    assert "\n" not in summary
