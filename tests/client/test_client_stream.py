"""The stream's bookkeeping, against an ``httpx.MockTransport`` serving SSE."""

from __future__ import annotations

import json

import httpx
import pytest

from conductor_client import (
    AsyncConductor,
    Conductor,
    ConnectionFailed,
    NotFoundError,
    RunEvent,
    StreamGap,
)

BASE = "http://conductor.test"
NAMES = {1: "run.queued", 2: "run.started", 3: "llm.completed", 4: "run.succeeded"}


def frame(seq: int) -> str:
    envelope = {
        "id": seq,
        "run_id": "r1",
        "event": NAMES[seq],
        "data": {"n": seq},
        "timestamp": "t",
    }
    return f"id: {seq}\nevent: {NAMES[seq]}\ndata: {json.dumps(envelope)}\n\n"


def sse(*seqs: int) -> httpx.Response:
    body = "retry: 3000\n\n: keepalive\n\n" + "".join(frame(seq) for seq in seqs)
    return httpx.Response(200, text=body, headers={"Content-Type": "text/event-stream"})


class Server:
    """Answers each stream request with the next scripted response; records Last-Event-ID."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.resumed_from: list[str | None] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.resumed_from.append(request.headers.get("Last-Event-ID"))
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def stream(server: Server, **options: int) -> list[int]:
    with Conductor(BASE, "key", transport=httpx.MockTransport(server)) as client:
        return [event.seq for event in client.runs.stream("r1", **options)]


def test_a_stream_that_ends_early_resumes_from_the_last_seq_and_drops_repeats():
    server = Server(sse(1, 2), sse(1, 2, 3, 4))

    assert stream(server) == [1, 2, 3, 4]
    assert server.resumed_from == [None, "2"]


def test_after_starts_past_that_seq():
    server = Server(sse(3, 4))

    assert stream(server, after=2) == [3, 4]
    assert server.resumed_from == ["2"]


async def test_the_async_stream_resumes_the_same_way():
    server = Server(sse(1), sse(2, 3, 4))

    async with AsyncConductor(BASE, "key", transport=httpx.MockTransport(server)) as client:
        events = [event async for event in client.runs.stream("r1")]

    assert [event.seq for event in events] == [1, 2, 3, 4]
    assert events[-1] == RunEvent(
        seq=4, run_id="r1", event="run.succeeded", data={"n": 4}, timestamp="t"
    )
    assert server.resumed_from == [None, "1"]


def test_a_seq_jump_is_refetched_from_the_log_once_then_raised():
    server = Server(sse(1, 3))

    with pytest.raises(StreamGap):
        stream(server)

    assert server.resumed_from == [None, "1"]


def test_a_seq_jump_that_the_replay_fills_is_healed():
    server = Server(sse(1, 3), sse(2, 3, 4))

    assert stream(server) == [1, 2, 3, 4]


def test_a_404_on_the_stream_is_raised_not_retried():
    server = Server(httpx.Response(404, json={"error": {"code": "not_found", "message": "No."}}))

    with pytest.raises(NotFoundError):
        stream(server)

    assert len(server.resumed_from) == 1


def test_it_gives_up_after_max_reconnects_failures_in_a_row():
    server = Server(sse(1), sse())

    with pytest.raises(ConnectionFailed) as raised:
        stream(server, max_reconnects=2)

    assert server.resumed_from == [None, "1", "1"]  # two reconnects, then it gives up
    assert "/api/runs/r1/events/" in str(raised.value)


def test_run_event_reads_the_envelope():
    event = RunEvent.from_envelope(
        {"id": 7, "run_id": "r", "event": "run.failed", "data": {}, "timestamp": "now"}
    )

    assert event.seq == 7
    assert event.is_terminal
