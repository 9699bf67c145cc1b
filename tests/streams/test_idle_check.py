"""Idle streams re-check their runs with one shared query, not one log read each."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from apps.runs import events
from apps.runs.models import RunStatus
from apps.runs.services import run_event_emit
from apps.streams import follow, idle_check
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)
STREAMS = 20


@sync_to_async
def running_run(user: Any) -> Any:
    run = RunFactory(created_by=user, status=RunStatus.RUNNING)
    run_event_emit(run, events.RUN_STARTED)
    return run


async def drain(stream: Any, seen: list[int]) -> None:
    async for envelope in stream:
        if envelope is not None:
            seen.append(envelope["id"])


@pytest.fixture
def reads(monkeypatch):
    """How often the log was read, and how often the shared seq snapshot was."""
    counts = {"log": 0, "snapshot": 0}
    logged, snapshot = follow._logged, idle_check._last_event_seqs

    async def counted_logged(*args: Any, **kwargs: Any) -> Any:
        counts["log"] += 1
        return await logged(*args, **kwargs)

    async def counted_snapshot(*args: Any, **kwargs: Any) -> Any:
        counts["snapshot"] += 1
        return await snapshot(*args, **kwargs)

    monkeypatch.setattr(follow, "_logged", counted_logged)
    monkeypatch.setattr(idle_check, "_last_event_seqs", counted_snapshot)
    return counts


async def test_many_idle_streams_of_a_quiet_run_share_one_check_and_read_no_log(viewer, reads):
    run = await running_run(viewer)
    seen: list[list[int]] = [[] for _ in range(STREAMS)]
    tasks = [
        asyncio.create_task(drain(follow.follow_run(run.pk, 0, idle_seconds=0.05), seen[i]))
        for i in range(STREAMS)
    ]
    await asyncio.sleep(0.5)  # about ten idle intervals for each of the streams

    assert reads["log"] == 0
    # Before: every stream read the log every interval (~200 reads here).
    assert 1 <= reads["snapshot"] <= 25
    assert all(ids == [1] for ids in seen)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_event_the_layer_lost_reaches_every_idle_stream(viewer, reads, monkeypatch):
    from apps.runs import services

    run = await running_run(viewer)
    seen: list[list[int]] = [[] for _ in range(STREAMS)]
    tasks = [
        asyncio.create_task(drain(follow.follow_run(run.pk, 0, idle_seconds=0.05), seen[i]))
        for i in range(STREAMS)
    ]
    await asyncio.sleep(0.1)
    monkeypatch.setattr(services, "_publish", lambda *args: None)  # the layer loses them
    await sync_to_async(run_event_emit)(run, events.LLM_COMPLETED)
    await sync_to_async(run_event_emit)(run, events.RUN_SUCCEEDED)

    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

    assert all(ids == [1, 2, 3] for ids in seen)
    assert reads["log"] >= STREAMS  # each stream read what it missed, once it had news


async def test_a_stream_that_ends_stops_being_followed(viewer):
    run = await running_run(viewer)
    stream = follow.follow_run(run.pk, 0, idle_seconds=0.05)
    assert (await anext(stream))["id"] == 1
    assert idle_check._snapshot().followed[run.pk] == 1

    await stream.aclose()

    assert run.pk not in idle_check._snapshot().followed
