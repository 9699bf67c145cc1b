from typing import Any, cast

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from apps.agents.models import Agent
from apps.runs import events, services
from apps.runs.models import Run
from apps.streams.broadcast import (
    broadcast_councilor_status,
    broadcast_to_gamification,
    broadcast_tool_summary,
)
from conductor_site.asgi import application
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie_for(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(
    user, path: str = "/ws/gamification/"
) -> tuple[bool, Any, WebsocketCommunicator]:
    headers = [(b"origin", b"http://localhost:8000")]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie_for)(user)))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, detail = await communicator.connect()
    return connected, detail, communicator


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
    run = Run.objects.create(
        agent=cast(Agent, AgentFactory()),
        input="task",
        cwd="/srv",
        model="gpt-4o-mini",
        max_steps=5,
        timeout_seconds=60,
        created_by=user,
    )
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
