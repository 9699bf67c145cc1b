"""Run events as the SSE stream delivers them, and the seq bookkeeping for resuming."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from httpx_sse import ServerSentEvent

TERMINAL_EVENTS = frozenset({"run.succeeded", "run.failed", "run.cancelled", "run.timed_out"})
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


@dataclass(frozen=True)
class RunEvent:
    seq: int
    run_id: str
    event: str
    data: dict[str, Any]
    timestamp: str

    @property
    def is_terminal(self) -> bool:
        return self.event in TERMINAL_EVENTS

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> RunEvent:
        return cls(
            seq=int(envelope["id"]),
            run_id=str(envelope["run_id"]),
            event=str(envelope["event"]),
            data=dict(envelope.get("data") or {}),
            timestamp=str(envelope.get("timestamp", "")),
        )


class SeqJump(Exception):
    """An event arrived whose seq is past the next one expected."""


class SeqCursor:
    """The last seq delivered: later events pass once, in order, whatever the reconnects."""

    def __init__(self, after: int = 0) -> None:
        self.last = after

    def accept(self, sse: ServerSentEvent) -> RunEvent | None:
        """The event to deliver, or None for a replayed duplicate or a frame without an id
        (the ``retry:`` hint). Raises SeqJump when seqs were skipped."""
        if not sse.id.isdigit():
            return None
        seq = int(sse.id)
        if seq <= self.last:
            return None
        if seq != self.last + 1:
            raise SeqJump(f"expected event {self.last + 1}, got {seq}")
        event = RunEvent.from_envelope(json.loads(sse.data))
        self.last = seq
        return event

    @property
    def resume_headers(self) -> dict[str, str]:
        return {"Last-Event-ID": str(self.last)} if self.last else {}
