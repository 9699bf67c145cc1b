import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels import consumer as consumer_module
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from apps.runs import events, services
from apps.runs.models import Run, RunStatus
from apps.streams import consumers
from tests.factories import RunFactory
from tests.streams.sockets import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


@sync_to_async
def make_run(user, **fields) -> Run:
    return RunFactory(created_by=user, **fields)


@sync_to_async
def emit(run: Run, count: int) -> None:
    for n in range(count):
        services.run_event_emit(run, events.LLM_DELTA, {"text": f"chunk {n}"})


async def receive_ids(communicator: WebsocketCommunicator, count: int) -> list[int]:
    return [(await communicator.receive_json_from(timeout=2))["id"] for _ in range(count)]


async def test_an_anonymous_client_is_closed_as_unauthenticated(viewer):
    run = await make_run(viewer)

    connected, code, _ = await open_socket(None, f"/ws/runs/{run.pk}/")

    assert (connected, code) == (False, 4401)


async def test_another_users_run_and_an_unknown_run_are_both_forbidden(viewer, other_user):
    run = await make_run(other_user)

    theirs = await open_socket(viewer, f"/ws/runs/{run.pk}/")
    unknown = await open_socket(viewer, f"/ws/runs/{uuid.uuid4()}/")

    assert theirs[:2] == (False, 4403)
    assert unknown[:2] == (False, 4403)


async def test_a_foreign_origin_is_rejected_at_the_handshake(viewer):
    run = await make_run(viewer)

    connected, _, _ = await open_socket(
        viewer, f"/ws/runs/{run.pk}/", origin=(b"origin", b"https://evil.example")
    )

    assert not connected


async def test_the_owner_gets_the_log_then_live_envelopes(viewer):
    run = await make_run(viewer)
    await emit(run, 3)

    connected, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")
    replayed = await receive_ids(communicator, 3)
    await emit(run, 1)
    live = await communicator.receive_json_from(timeout=2)

    assert connected
    assert replayed == [1, 2, 3]
    assert live["id"] == 4
    assert live["run_id"] == str(run.pk)
    assert live["event"] == events.LLM_DELTA
    assert live["data"] == {"text": "chunk 0"}
    assert set(live) == {"id", "run_id", "event", "data", "timestamp"}
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_live_envelopes_go_out_without_a_trip_to_a_worker_thread_each(viewer, monkeypatch):
    run = await make_run(viewer)
    connected, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")
    assert connected
    hops = []
    real_cleanup = consumer_module.aclose_old_connections

    async def counted() -> None:
        hops.append(1)
        await real_cleanup()

    # channels' AsyncConsumer.dispatch calls this before every message it hands over.
    monkeypatch.setattr(consumer_module, "aclose_old_connections", counted)
    layer = get_channel_layer()
    for seq in (1, 2, 3):
        envelope = {"id": seq, "run_id": str(run.pk), "event": "llm.delta", "data": {}}
        await layer.group_send(
            events.run_group(run.pk), {"type": "run.event", "envelope": envelope}
        )

    assert await receive_ids(communicator, 3) == [1, 2, 3]
    assert hops == []
    await communicator.disconnect()


@pytest.mark.parametrize(("query", "expected"), [("after=2", [3, 4]), ("after=²", [1, 2, 3, 4])])
async def test_after_in_the_query_string_skips_what_the_client_has(viewer, query, expected):
    run = await make_run(viewer)
    await emit(run, 4)

    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/?{query}")

    assert await receive_ids(communicator, len(expected)) == expected
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_resume_resends_exactly_what_follows_its_seq(viewer):
    run = await make_run(viewer)
    await emit(run, 5)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/?after=5")

    await communicator.send_json_to({"type": "resume", "after": 2})
    resent = await receive_ids(communicator, 3)
    await emit(run, 1)
    live = await receive_ids(communicator, 1)

    assert resent == [3, 4, 5]
    assert live == [6]
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_missed_live_event_is_filled_from_the_log(viewer):
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")
    # Written to the log without being published: the layer "lost" it.
    await sync_to_async(Run.objects.filter(pk=run.pk).update)(last_event_seq=1)
    await sync_to_async(run.events.create)(seq=1, event=events.LLM_DELTA, data={})

    await emit(run, 1)

    assert await receive_ids(communicator, 2) == [1, 2]
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_a_lost_terminal_event_arrives_after_an_idle_interval(viewer, settings):
    settings.CONDUCTOR_SSE_KEEPALIVE_SECONDS = 0.1
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")
    await emit(run, 1)
    assert await receive_ids(communicator, 1) == [1]
    # Logged but never published: no live event will ever point at the gap.
    await sync_to_async(Run.objects.filter(pk=run.pk).update)(last_event_seq=2)
    await sync_to_async(run.events.create)(seq=2, event=events.RUN_SUCCEEDED, data={})

    terminal = await communicator.receive_json_from(timeout=2)

    assert (terminal["id"], terminal["event"]) == (2, events.RUN_SUCCEEDED)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_cancel_ends_a_queued_run_and_its_envelope_follows(viewer):
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")

    await communicator.send_json_to({"type": "cancel"})
    messages = [await communicator.receive_json_from(timeout=2) for _ in range(2)]

    assert {"type": "cancel", "status": "cancelled"} in messages
    assert events.RUN_CANCELLED in [message.get("event") for message in messages]
    await sync_to_async(run.refresh_from_db)()
    assert run.status == RunStatus.CANCELLED
    await communicator.disconnect()


async def test_cancel_of_a_finished_run_is_an_error(viewer):
    run = await make_run(viewer, status=RunStatus.SUCCEEDED)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")

    await communicator.send_json_to({"type": "cancel"})
    reply = await communicator.receive_json_from(timeout=2)

    assert reply["type"] == "error"
    assert reply["error"]["code"] == "run_not_cancellable"
    await communicator.disconnect()


async def test_ping_gets_a_pong(viewer):
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")

    await communicator.send_json_to({"type": "ping"})

    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", "malformed_message"),
        ("[1, 2]", "malformed_message"),
        ('{"type": 7}', "malformed_message"),
        ('{"type": "dance"}', "unknown_message"),
        ('{"type": "resume", "after": -1}', "invalid_resume"),
        ('{"type": "resume"}', "invalid_resume"),
    ],
)
async def test_a_bad_message_gets_an_error_and_the_socket_stays_up(viewer, text, code):
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")

    await communicator.send_to(text_data=text)
    reply = await communicator.receive_json_from(timeout=2)
    await communicator.send_json_to({"type": "ping"})

    assert reply["type"] == "error"
    assert reply["error"]["code"] == code
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}
    await communicator.disconnect()


async def test_a_replay_longer_than_the_queue_waits_for_a_reading_client(viewer, monkeypatch):
    monkeypatch.setattr(consumers, "OUTGOING_QUEUE_SIZE", 2)
    run = await make_run(viewer)
    await emit(run, 10)

    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")

    assert await receive_ids(communicator, 10) == list(range(1, 11))
    await communicator.disconnect()


async def test_a_client_that_stops_reading_is_dropped_as_too_slow(viewer, monkeypatch):
    never = asyncio.Event()

    async def stuck_send_json(self, content, close=False):
        await never.wait()

    monkeypatch.setattr(consumers, "OUTGOING_QUEUE_SIZE", 2)
    monkeypatch.setattr(consumers.StreamConsumer, "send_json", stuck_send_json)
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")

    await emit(run, 5)

    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4008}
    await communicator.disconnect()


async def test_a_deactivated_user_is_closed_at_the_next_check(viewer, monkeypatch):
    monkeypatch.setattr(consumers, "USER_RECHECK_SECONDS", 0)
    run = await make_run(viewer)
    _, _, communicator = await open_socket(viewer, f"/ws/runs/{run.pk}/")
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=2) == {"type": "pong"}

    viewer.is_active = False
    await sync_to_async(viewer.save)()
    await communicator.send_json_to({"type": "ping"})

    assert await communicator.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
