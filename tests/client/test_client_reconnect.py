"""A stream cut by the network resumes with Last-Event-ID: no gap, no duplicate."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conductor_client import AsyncConductor, Conductor
from tests.client.conftest import LiveServer
from tests.client.proxy import CuttingProxy
from tests.fakes import llm_server as llm

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def slow_answer() -> llm.Reply:
    """Streamed deltas that keep the run live while the stream is cut."""
    return llm.slow(0.3, llm.text("one two three four five six", chunks=6), per_chunk_delay=0.1)


def upstream_port(live_server: LiveServer) -> int:
    port = urlsplit(live_server.url).port
    assert port is not None
    return port


def test_a_cut_stream_resumes_without_gap_or_duplicate(live_server, fake_llm_live):
    fake_llm_live.script(slow_answer())

    with (
        CuttingProxy(upstream_port(live_server), after_events=2, cuts=2) as proxy,
        Conductor(proxy.url, live_server.token, timeout=10) as client,
    ):
        run = client.runs.create(live_server.echo_agent, "Count", cwd=live_server.cwd)
        seqs = [event.seq for event in client.runs.stream(run["id"])]
        replayed = [event.seq for event in client.runs.stream(run["id"])]

    assert proxy.cut == 2
    assert seqs == list(range(1, len(seqs) + 1))
    assert seqs == replayed
    assert len(seqs) > 4


async def test_the_async_stream_resumes_without_gap_or_duplicate(live_server, fake_llm_live):
    fake_llm_live.script(slow_answer())

    with CuttingProxy(upstream_port(live_server), after_events=3) as proxy:
        async with AsyncConductor(proxy.url, live_server.token, timeout=10) as client:
            run = await client.runs.create(live_server.echo_agent, "Count", cwd=live_server.cwd)
            events = [event async for event in client.runs.stream(run["id"])]

    seqs = [event.seq for event in events]
    assert proxy.cut == 1
    assert seqs == list(range(1, len(seqs) + 1))
    assert events[-1].event == "run.succeeded"
