"""Following one run: its logged events after a point, then live ones, each seq once, in order.

Every stream of a run (SSE, the seed gateway's job stream) reads through :func:`follow_run`.
It joins the run's channel-layer group *before* it reads the log, so an event committed
in between is either in the replay or waiting on the channel. From then on:

- a live seq already sent is skipped;
- a live seq that jumps ahead is preceded by the missing ones, read from the log;
- after ``idle_seconds`` without a live event, the log is read again, so a publish that
  the layer lost (it is best effort; the log is the source of truth) arrives late, not
  never. A Redis outage turns the stream into polling rather than ending it.

The channel is read by one background task that feeds a bounded queue, so waiting with a
timeout never cancels the layer's ``receive`` (cancelling a channels-redis receive
mid-flight can lose the message it was taking). A full queue drops live messages; the log
fills them in as above.

Database work runs through ``database_sync_to_async``, which hands the connection back
after every call: a stream can stay open for hours and must not hold one meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer

from apps.runs import events
from apps.runs.models import Run
from apps.runs.selectors import run_events_after
from apps.runs.services import event_envelope
from apps.streams import idle_check

logger = logging.getLogger(__name__)

Envelope = dict[str, Any]

# Live messages buffered for one stream before newer ones are dropped (and re-read).
INBOX_SIZE = 256


async def _after_join() -> None:
    """Runs between joining the group and reading the log; tests widen that window."""


async def follow_run(
    run_id: uuid.UUID, after: int, *, idle_seconds: float
) -> AsyncIterator[Envelope | None]:
    """Yields the run's envelopes with a seq above ``after``, up to its terminal event.

    Yields ``None`` after every ``idle_seconds`` with nothing new, for keepalives. Ends
    at once when the run had finished and the log after ``after`` is empty.
    """
    layer = get_channel_layer()
    assert layer is not None, "CHANNEL_LAYERS is always configured (settings.py)"
    group = events.run_group(run_id)
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    inbox = _Inbox(layer, channel)
    idle_check.follow(run_id)
    try:
        await _after_join()
        finished, replay = await _log_snapshot(run_id, after)
        cursor = _Cursor(after)
        for envelope in replay:
            yield cursor.advance(envelope)
        if cursor.closed or finished:
            return
        while not cursor.closed:
            batch = await _next_batch(run_id, inbox, cursor, idle_seconds)
            if not batch:
                yield None
            for envelope in batch:
                yield cursor.advance(envelope)
                if cursor.closed:
                    break
    finally:
        # Also on CancelledError/GeneratorExit when the client goes away.
        idle_check.unfollow(run_id)
        await inbox.close()
        await layer.group_discard(group, channel)


async def _next_batch(
    run_id: uuid.UUID, inbox: _Inbox, cursor: _Cursor, idle_seconds: float
) -> list[Envelope]:
    """The next envelopes in seq order, or ``[]`` after ``idle_seconds`` of nothing new."""
    while True:
        live = await inbox.next(idle_seconds)
        if live is None:
            # Read the log only if the run logged past what was sent (checked for all
            # idle streams at once): a lost publish still arrives, a quiet run costs nothing.
            if not await idle_check.has_news(run_id, cursor.last, max_age=idle_seconds / 2):
                return []
            return await _logged(run_id, after=cursor.last)
        if live["id"] > cursor.last:
            break
    if live["id"] == cursor.last + 1:
        return [live]
    return [*await _logged(run_id, after=cursor.last, before=live["id"]), live]


class _Cursor:
    """The last seq sent, and whether the terminal event has gone out."""

    def __init__(self, last: int) -> None:
        self.last = last
        self.closed = False

    def advance(self, envelope: Envelope) -> Envelope:
        self.last = envelope["id"]
        self.closed = envelope["event"] in events.TERMINAL_EVENTS
        return envelope


class _Inbox:
    """The channel's run envelopes, read by a background task into a bounded queue."""

    def __init__(self, layer: BaseChannelLayer, channel: str) -> None:
        self._layer = layer
        self._channel = channel
        self._queue: asyncio.Queue[Envelope] = asyncio.Queue(maxsize=INBOX_SIZE)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                envelope = _envelope_of(await self._layer.receive(self._channel))
                if envelope is not None:
                    with contextlib.suppress(asyncio.QueueFull):
                        self._queue.put_nowait(envelope)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The stream goes on reading the log every idle interval.
            logger.warning("stopped receiving live events on %s", self._channel, exc_info=True)

    async def next(self, wait_seconds: float) -> Envelope | None:
        try:
            return await asyncio.wait_for(self._queue.get(), wait_seconds)
        except TimeoutError:
            return None

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _envelope_of(message: dict[str, Any]) -> Envelope | None:
    if message.get("type") != events.LAYER_MESSAGE_TYPE:
        return None
    envelope = message.get("envelope")
    return envelope if isinstance(envelope, dict) else None


@database_sync_to_async
def _log_snapshot(run_id: uuid.UUID, after: int) -> tuple[bool, list[Envelope]]:
    """Whether the run had finished, then its log after ``after``: read in that order,
    a finished run's replay holds its last event."""
    run = Run.objects.get(pk=run_id)
    return run.is_finished, [event_envelope(record) for record in run_events_after(run, after)]


@database_sync_to_async
def _logged(run_id: uuid.UUID, *, after: int, before: int | None = None) -> list[Envelope]:
    records = run_events_after(run_id, after)
    if before is not None:
        records = records.filter(seq__lt=before)
    return [event_envelope(record) for record in records]
