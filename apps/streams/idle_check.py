"""Whether an idle stream's run has logged events it has not seen: one query for them all.

An idle stream re-checks its run's log every ``CONDUCTOR_SSE_KEEPALIVE_SECONDS``, so that
a publish the channel layer lost still arrives. Reading the log per stream made a
thousand idle streams a query every few milliseconds. Here the streams of one event loop
share a snapshot of ``Run.last_event_seq`` for every run they follow, read in one query
and refreshed at most every ``max_age`` seconds; a stream reads its log only when its
run's seq has passed the last one it sent.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections import Counter

from channels.db import database_sync_to_async

from apps.runs.models import Run


class _Snapshot:
    """``last_event_seq`` of the followed runs, shared by the streams of one loop."""

    def __init__(self) -> None:
        self.followed: Counter[uuid.UUID] = Counter()
        self.seqs: dict[uuid.UUID, int] = {}
        self.read_at = float("-inf")
        self.lock = asyncio.Lock()

    async def last_seq(self, run_id: uuid.UUID, max_age: float) -> int | None:
        async with self.lock:  # one reader refreshes; the streams waiting reuse its read
            if run_id not in self.seqs or time.monotonic() - self.read_at > max_age:
                started = time.monotonic()
                self.seqs = await _last_event_seqs(list(self.followed | {run_id: 1}))
                self.read_at = started
        return self.seqs.get(run_id)


_snapshots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Snapshot] = (
    weakref.WeakKeyDictionary()
)


def _snapshot() -> _Snapshot:
    loop = asyncio.get_running_loop()
    snapshot = _snapshots.get(loop)
    if snapshot is None:
        snapshot = _snapshots[loop] = _Snapshot()
    return snapshot


def follow(run_id: uuid.UUID) -> None:
    """Counts a stream of ``run_id`` in; pair with :func:`unfollow`."""
    _snapshot().followed[run_id] += 1


def unfollow(run_id: uuid.UUID) -> None:
    snapshot = _snapshot()
    snapshot.followed[run_id] -= 1
    if snapshot.followed[run_id] <= 0:
        del snapshot.followed[run_id]
        snapshot.seqs.pop(run_id, None)


async def has_news(run_id: uuid.UUID, sent_seq: int, *, max_age: float) -> bool:
    """Whether the run's log holds a seq above ``sent_seq`` (as of ``max_age`` ago at most).

    A run that no longer exists counts as news: reading its log ends the stream.
    """
    last = await _snapshot().last_seq(run_id, max_age)
    return last is None or last > sent_seq


@database_sync_to_async
def _last_event_seqs(run_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    return dict(Run.objects.filter(pk__in=run_ids).values_list("pk", "last_event_seq"))
