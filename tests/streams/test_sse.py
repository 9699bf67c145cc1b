"""GET /api/runs/{id}/events/: replay from the log, then live, through the ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from typing import Any, ClassVar

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings as django_settings
from django.http import StreamingHttpResponse
from django.test import AsyncClient, Client
from rest_framework.authtoken.models import Token

from apps.runs import events
from apps.runs.models import Run, RunStatus
from apps.runs.services import run_event_emit
from apps.streams import follow
from conductor_site.asgi import application
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

Frame = dict[str, Any]
WAIT_SECONDS = 10


def make_run(user, **fields) -> Run:
    return RunFactory(created_by=user, **fields)


def emit_all(run: Run, names: list[str]) -> None:
    for name in names:
        run_event_emit(run, name, {"name": name})


aemit_all = sync_to_async(emit_all)
amake_run = sync_to_async(make_run)

FULL_RUN = [
    events.RUN_QUEUED,
    events.RUN_STARTED,
    events.LLM_DELTA,
    events.LLM_COMPLETED,
    events.RUN_SUCCEEDED,
]


@pytest.fixture
def session_cookie(viewer) -> str:
    client = Client()
    client.force_login(viewer)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


@pytest.fixture
def token(viewer) -> str:
    return Token.objects.create(user=viewer).key


@pytest.fixture
async def layer():
    channel_layer = get_channel_layer()
    yield channel_layer
    # Every stream a test opened ends before the next test: none holds a group or a
    # database connection into it.
    for client in SSEClient.opened:
        await client.close()
    SSEClient.opened.clear()
    await channel_layer.flush()


async def group_size(layer: Any, group: str) -> int:
    """How many channels are in ``group``, on the in-memory or a Redis layer."""
    if isinstance(layer, InMemoryChannelLayer):
        return len(layer.groups.get(group, {}))
    if isinstance(layer, RedisPubSubChannelLayer):
        # Group membership lives in the process; Redis holds one subscription per group.
        loop_layer = layer._get_layer()
        return len(loop_layer.groups.get(loop_layer._get_group_channel_name(group), ()))
    key = layer._group_key(group)
    async with layer.connection(layer.consistent_hash(group)) as connection:
        return await connection.zcard(key)


class SSEClient:
    """Speaks ASGI HTTP to the project's application, one body chunk at a time."""

    opened: ClassVar[list[SSEClient]] = []

    def __init__(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> None:
        path, _, query = path.partition("?")
        raw_headers = [(b"host", b"testserver")] + [
            (name.lower().encode(), value.encode()) for name, value in (headers or {}).items()
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self.communicator = ApplicationCommunicator(application, scope)
        self.buffer = ""
        self.ended = False
        self.opened.append(self)

    async def start(self) -> tuple[int, dict[str, str]]:
        await self.communicator.send_input({"type": "http.request", "body": b""})
        start = await self.communicator.receive_output(WAIT_SECONDS)
        assert start["type"] == "http.response.start"
        headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
        return start["status"], headers

    async def chunk(self) -> str:
        message = await self.communicator.receive_output(WAIT_SECONDS)
        assert message["type"] == "http.response.body"
        self.ended = not message.get("more_body", False)
        return message.get("body", b"").decode()

    async def frames(self, count: int) -> list[str]:
        """The next ``count`` frames (each ends with a blank line)."""
        while self.buffer.count("\n\n") < count:
            assert not self.ended, f"the stream ended early: {self.buffer!r}"
            self.buffer += await self.chunk()
        parts = self.buffer.split("\n\n")
        taken, self.buffer = parts[:count], "\n\n".join(parts[count:])
        return [part + "\n\n" for part in taken]

    async def rest(self) -> list[str]:
        """Every frame until the server closes the stream."""
        while not self.ended:
            self.buffer += await self.chunk()
        frames = [part + "\n\n" for part in self.buffer.split("\n\n") if part]
        self.buffer = ""
        return frames

    async def body(self) -> dict[str, Any]:
        return json.loads(await self.chunk())

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "http.disconnect"})
        await self.communicator.wait(WAIT_SECONDS)

    async def close(self) -> None:
        """Hangs up unless the application has finished, then waits until it has."""
        if not self.communicator.future.done():
            await self.communicator.send_input({"type": "http.disconnect"})
        await self.communicator.wait(WAIT_SECONDS)


def parse(frame: str) -> Frame:
    lines = dict(line.split(": ", 1) for line in frame.strip("\n").split("\n"))
    return {"id": int(lines["id"]), "event": lines["event"], "data": json.loads(lines["data"])}


def ids(frames: list[str]) -> list[int]:
    return [parse(frame)["id"] for frame in frames]


def url(run: Run | uuid.UUID, query: str = "") -> str:
    pk = run.pk if isinstance(run, Run) else run
    return f"/api/runs/{pk}/events/{query}"


async def open_stream(
    run: Run, cookie: str, query: str = "", **headers: str
) -> tuple[SSEClient, dict[str, str]]:
    client = SSEClient(url(run, query), {"Cookie": cookie, **headers})
    status, response_headers = await client.start()
    assert status == 200
    assert await client.frames(1) == ["retry: 3000\n\n"]
    return client, response_headers


# --- Replay ---------------------------------------------------------------------


async def test_it_streams_a_whole_run_in_order_then_closes(viewer, session_cookie, layer):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, FULL_RUN)

    client, headers = await open_stream(run, session_cookie)
    frames = await client.rest()

    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache"
    assert headers["x-accel-buffering"] == "no"
    assert ids(frames) == [1, 2, 3, 4, 5]
    assert [parse(frame)["event"] for frame in frames] == FULL_RUN
    first = parse(frames[0])["data"]
    data = json.dumps(first, separators=(",", ":"))
    assert frames[0] == f"id: 1\nevent: run.queued\ndata: {data}\n\n"
    assert set(first) == {"id", "run_id", "event", "data", "timestamp"}
    assert (first["id"], first["run_id"], first["data"]) == (1, str(run.pk), {"name": "run.queued"})
    assert client.ended


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {"Last-Event-ID": "2"}),
        ("?after=2", {}),
        ("?after=4", {"Last-Event-ID": "2"}),
    ],
    ids=["header", "query", "header-wins"],
)
async def test_it_replays_events_after_last_event_id(viewer, session_cookie, layer, query, headers):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, FULL_RUN)

    client, _ = await open_stream(run, session_cookie, query, **headers)

    assert ids(await client.rest()) == [3, 4, 5]


async def test_a_finished_run_replays_and_closes_at_once(viewer, session_cookie, layer):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, [events.RUN_STARTED, events.RUN_FAILED])
    await sync_to_async(Run.objects.filter(pk=run.pk).update)(status=RunStatus.FAILED)

    replayed, _ = await open_stream(run, session_cookie)
    caught_up, _ = await open_stream(run, session_cookie, **{"Last-Event-ID": "2"})

    assert ids(await replayed.rest()) == [1, 2]
    assert await caught_up.rest() == []


# --- Live -----------------------------------------------------------------------


async def test_it_streams_live_events_and_closes_after_the_terminal_one(
    viewer, session_cookie, layer
):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, [events.RUN_QUEUED, events.RUN_STARTED])
    client, _ = await open_stream(run, session_cookie)
    assert ids(await client.frames(2)) == [1, 2]

    await aemit_all(run, [events.LLM_DELTA])
    live = parse((await client.frames(1))[0])
    assert not client.ended
    await aemit_all(run, [events.RUN_SUCCEEDED])

    assert (live["id"], live["event"]) == (3, events.LLM_DELTA)
    assert ids(await client.rest()) == [4]


async def test_events_emitted_during_the_replay_arrive_once_in_order(
    viewer, session_cookie, layer, monkeypatch
):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, [events.RUN_QUEUED, events.RUN_STARTED])
    joined, emitted = asyncio.Event(), asyncio.Event()

    async def slow_join() -> None:
        joined.set()
        await emitted.wait()

    async def emit_while_joining() -> None:
        await joined.wait()
        # In the log before the replay reads it, and queued on the joined channel.
        await aemit_all(run, [events.LLM_DELTA, events.LLM_DELTA, events.LLM_COMPLETED])
        emitted.set()

    monkeypatch.setattr(follow, "_after_join", slow_join)
    emitter = asyncio.create_task(emit_while_joining())
    client, _ = await open_stream(run, session_cookie, **{"Last-Event-ID": "1"})
    assert ids(await client.frames(4)) == [2, 3, 4, 5]
    await emitter
    await aemit_all(run, [events.TOOL_CALLED, events.RUN_SUCCEEDED])

    assert ids(await client.rest()) == [6, 7]


async def test_an_event_the_layer_dropped_is_filled_in_from_the_log(
    viewer, session_cookie, layer, monkeypatch
):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    client, _ = await open_stream(run, session_cookie)
    from apps.runs import services

    publish = services._publish
    monkeypatch.setattr(services, "_publish", lambda *args: None)
    await aemit_all(run, [events.RUN_STARTED, events.LLM_DELTA])
    monkeypatch.setattr(services, "_publish", publish)
    await aemit_all(run, [events.LLM_COMPLETED, events.RUN_SUCCEEDED])

    assert ids(await client.rest()) == [1, 2, 3, 4]


async def test_a_terminal_event_the_layer_dropped_arrives_after_an_idle_interval(
    viewer, session_cookie, layer, monkeypatch, settings
):
    settings.CONDUCTOR_SSE_KEEPALIVE_SECONDS = 0.1
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, [events.RUN_STARTED])
    client, _ = await open_stream(run, session_cookie)
    assert ids(await client.frames(1)) == [1]
    from apps.runs import services

    monkeypatch.setattr(services, "_publish", lambda *args: None)
    await aemit_all(run, [events.LLM_COMPLETED, events.RUN_SUCCEEDED])

    frames = [frame for frame in await client.rest() if not frame.startswith(":")]
    assert ids(frames) == [2, 3]


async def test_a_failing_channel_layer_degrades_to_reading_the_log(
    viewer, session_cookie, layer, monkeypatch, settings
):
    settings.CONDUCTOR_SSE_KEEPALIVE_SECONDS = 0.1

    async def broken_receive(channel: str) -> dict[str, Any]:
        raise ConnectionError("the channel layer is down")

    monkeypatch.setattr(layer, "receive", broken_receive)
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    client, _ = await open_stream(run, session_cookie)
    await aemit_all(run, FULL_RUN)

    frames = [frame for frame in await client.rest() if not frame.startswith(":")]
    assert ids(frames) == [1, 2, 3, 4, 5]


async def test_it_sends_a_keepalive_comment_when_idle(viewer, session_cookie, layer, settings):
    settings.CONDUCTOR_SSE_KEEPALIVE_SECONDS = 0.05
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    client, _ = await open_stream(run, session_cookie)

    assert await client.frames(2) == [": keepalive\n\n", ": keepalive\n\n"]
    await aemit_all(run, [events.RUN_CANCELLED])
    frames = [frame for frame in await client.rest() if not frame.startswith(":")]
    assert ids(frames) == [1]


# --- Disconnect -----------------------------------------------------------------


async def test_a_client_disconnect_leaves_the_group(viewer, session_cookie, layer):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, [events.RUN_STARTED])
    client, _ = await open_stream(run, session_cookie)
    assert ids(await client.frames(1)) == [1]
    assert await group_size(layer, events.run_group(run.pk)) == 1

    await client.disconnect()

    assert await group_size(layer, events.run_group(run.pk)) == 0


async def test_cancelling_the_reader_mid_stream_leaves_the_group(viewer, token, layer):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    await aemit_all(run, [events.RUN_STARTED])
    response = await AsyncClient().get(url(run), headers={"Authorization": f"Token {token}"})
    assert isinstance(response, StreamingHttpResponse)
    received: list[bytes] = []
    replayed = asyncio.Event()

    async def read() -> None:
        async for part in response.streaming_content:
            received.append(bytes(part))
            if len(received) == 2:
                replayed.set()

    reader = asyncio.create_task(read())
    async with asyncio.timeout(WAIT_SECONDS):
        await replayed.wait()
    assert await group_size(layer, events.run_group(run.pk)) == 1
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader

    assert received[1].startswith(b"id: 1\n")
    assert await group_size(layer, events.run_group(run.pk)) == 0


async def test_open_streams_do_not_hold_a_thread_each(viewer, session_cookie, layer):
    runs = [await amake_run(viewer, status=RunStatus.RUNNING) for _ in range(4)]
    for run in runs:
        await aemit_all(run, [events.RUN_STARTED])
    threads_before = threading.active_count()

    for run in runs:
        client, _ = await open_stream(run, session_cookie)
        assert ids(await client.frames(1)) == [1]

    # Django's own handler starts a thread per request that lives until the response
    # ends: for streams, a thread per open stream. At most the shared one may start here.
    assert threading.active_count() - threads_before <= 1


# --- Who may watch --------------------------------------------------------------


async def test_token_auth_works(viewer, token, layer):
    run = await amake_run(viewer, status=RunStatus.SUCCEEDED)
    await aemit_all(run, [events.RUN_SUCCEEDED])
    client = SSEClient(url(run), {"Authorization": f"Token {token}"})

    status, _ = await client.start()

    assert status == 200
    assert ids((await client.rest())[1:]) == [1]


async def test_an_anonymous_client_gets_a_401(viewer, layer):
    run = await amake_run(viewer)
    client = SSEClient(url(run))

    status, headers = await client.start()

    assert status == 401
    assert headers["www-authenticate"] == "Token"
    assert (await client.body())["error"]["code"] == "not_authenticated"


async def test_a_bad_token_gets_a_401(viewer, layer):
    run = await amake_run(viewer)
    client = SSEClient(url(run), {"Authorization": "Token nope"})

    status, _ = await client.start()

    assert status == 401
    assert (await client.body())["error"]["code"] == "authentication_failed"


async def test_another_users_run_or_an_unknown_one_is_a_404(
    viewer, other_user, session_cookie, layer
):
    theirs = await amake_run(other_user)
    for target in (theirs, uuid.uuid4()):
        client = SSEClient(url(target), {"Cookie": session_cookie})

        status, _ = await client.start()

        assert status == 404
        assert (await client.body())["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "headers", "field"),
    [
        ("", {"Last-Event-ID": "abc"}, "Last-Event-ID"),
        ("", {"Last-Event-ID": "-1"}, "Last-Event-ID"),
        ("?after=1.5", {}, "after"),
    ],
)
async def test_a_bad_resume_point_is_a_400(viewer, session_cookie, layer, query, headers, field):
    run = await amake_run(viewer)
    client = SSEClient(url(run, query), {"Cookie": session_cookie, **headers})

    status, _ = await client.start()

    assert status == 400
    body = await client.body()
    assert body["error"]["code"] == "validation_error"
    assert field in body["error"]["details"]


async def test_head_answers_the_stream_headers_without_a_body(viewer, session_cookie, layer):
    run = await amake_run(viewer, status=RunStatus.RUNNING)
    client = SSEClient(url(run), {"Cookie": session_cookie}, method="HEAD")

    status, headers = await client.start()

    assert (status, headers["content-type"]) == (200, "text/event-stream")
    assert await client.chunk() == ""
    assert client.ended


async def test_other_methods_get_a_405(viewer, session_cookie, layer):
    run = await amake_run(viewer)
    client = SSEClient(url(run), {"Cookie": session_cookie}, method="POST")

    status, _ = await client.start()

    assert status == 405
    assert (await client.body())["error"]["code"] == "method_not_allowed"
