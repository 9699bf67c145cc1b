"""WebSocket consumers (SPEC §5): run events, the gamification feed, councilor status.

Every consumer is a :class:`StreamConsumer`: it checks the user at connect and
again at most every ``USER_RECHECK_SECONDS``, and it queues what it sends in a
bounded queue, so one slow client costs at most ``OUTGOING_QUEUE_SIZE`` messages
of memory before it is dropped with ``CLOSE_TOO_SLOW``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.consumers import (
    CLOSE_MESSAGE_TOO_BIG,
    CLOSE_UNAUTHENTICATED,
    decode_message,
    message_too_big,
)
from apps.core.exceptions import ConductorError
from apps.runs import services
from apps.runs.events import TERMINAL_EVENTS, run_group
from apps.runs.models import Run
from apps.runs.selectors import run_events_after, runs_visible_to
from apps.streams import idle_check
from apps.streams.broadcast import COUNCILORS_GROUP, GAMIFICATION_GROUP, TOPICS

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4008

OUTGOING_QUEUE_SIZE = 256
USER_RECHECK_SECONDS = 60.0
# Replays wait this long for room in the queue; live messages never wait.
REPLAY_WAIT_SECONDS = 10.0
REPLAY_BATCH_SIZE = 200

Message = dict[str, Any]


@database_sync_to_async
def _user_is_active(user_id: Any) -> bool:
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()


class StreamConsumer(AsyncJsonWebsocketConsumer):
    """Authenticated JSON socket with a bounded outgoing queue.

    Subclasses name the client message types they accept in ``client_messages``
    and handle each in ``on_<type>(content)``; they send with :meth:`push`, never
    with ``send_json`` directly, so that the bound and the re-check apply.
    """

    client_messages: frozenset[str] = frozenset({"ping"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Any = None
        self.closed = False
        self._outgoing: asyncio.Queue[Message] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._joined: list[str] = []
        self._checked_at = 0.0

    # --- Hooks for subclasses ---------------------------------------------------

    async def authorize(self) -> bool:
        return True

    def stream_groups(self) -> list[str]:
        return []

    async def on_open(self) -> None:
        """Called once the socket is accepted and the groups joined."""

    async def on_close(self) -> None:
        """Called on disconnect, after the groups were left."""

    # --- Lifecycle ----------------------------------------------------------------

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.shut(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        if not await self.authorize():
            await self.shut(CLOSE_FORBIDDEN)
            return
        for group in self.stream_groups():
            await self.channel_layer.group_add(group, self.channel_name)
            self._joined.append(group)
        self._outgoing = asyncio.Queue(maxsize=OUTGOING_QUEUE_SIZE)
        self._checked_at = time.monotonic()
        await self.accept()
        self._sender = asyncio.create_task(self._drain(self._outgoing))
        await self.on_open()

    async def disconnect(self, code: int) -> None:
        self.closed = True
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
        for group in self._joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self._joined = []
        await self.on_close()

    async def shut(self, code: int) -> None:
        """Closes the socket once and stops sending; queued messages are dropped."""
        if self.closed:
            return
        self.closed = True
        if self._sender is not None:
            self._sender.cancel()
        await self.close(code=code)

    async def _drain(self, queue: asyncio.Queue[Message]) -> None:
        while True:
            message = await queue.get()
            await self.send_json(message)

    # --- Sending ------------------------------------------------------------------

    async def push(self, message: Message, *, wait: bool = False) -> bool:
        """Queues a message for the client; drops the client if it cannot keep up.

        ``wait`` is for replays from the log, which can wait a bounded time for the
        client; live messages cannot wait without holding up every later one.
        Returns whether the message was queued.
        """
        if self.closed or self._outgoing is None or not await self._user_still_active():
            return False
        try:
            if wait:
                await asyncio.wait_for(self._outgoing.put(message), REPLAY_WAIT_SECONDS)
            else:
                self._outgoing.put_nowait(message)
        except (asyncio.QueueFull, TimeoutError):
            logger.info("dropping a slow WebSocket client of %s", self.scope.get("path"))
            await self.shut(CLOSE_TOO_SLOW)
            return False
        return True

    async def push_error(self, code: str, message: str) -> None:
        await self.push({"type": "error", "error": {"code": code, "message": message}})

    def forget_queued(self, unwanted: Any) -> None:
        """Removes the queued messages for which ``unwanted(message)`` is true."""
        if self._outgoing is None:
            return
        kept = []
        while not self._outgoing.empty():
            message = self._outgoing.get_nowait()
            if not unwanted(message):
                kept.append(message)
        for message in kept:
            self._outgoing.put_nowait(message)

    async def _user_still_active(self) -> bool:
        if time.monotonic() - self._checked_at < USER_RECHECK_SECONDS:
            return True
        self._checked_at = time.monotonic()
        if await _user_is_active(self.user.pk):
            return True
        await self.shut(CLOSE_UNAUTHENTICATED)
        return False

    # --- Dispatching ----------------------------------------------------------------

    async def dispatch(self, message: Message) -> None:
        """Calls the message's handler, without channels' database clean-up first.

        ``AsyncConsumer.dispatch`` runs ``close_old_connections`` on a worker thread before
        every message: for a run followed by many sockets that was a thread hop per socket
        per event, most of the cost of a live event. These handlers touch the database only
        through ``database_sync_to_async``, which does that clean-up around each call.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- Receiving ----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if message_too_big(text_data, bytes_data):
            await self.shut(CLOSE_MESSAGE_TOO_BIG)
            return
        await self.receive_json(decode_message(text_data))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if self.closed or not await self._user_still_active():
            return
        kind = content.get("type") if isinstance(content, dict) else None
        if not isinstance(kind, str):
            await self.push_error("malformed_message", 'Send a JSON object with a "type".')
        elif kind not in self.client_messages:
            await self.push_error("unknown_message", f"Unknown message type {kind!r}.")
        else:
            await getattr(self, f"on_{kind}")(content)

    async def on_ping(self, content: Message) -> None:
        await self.push({"type": "pong"})


# --- /ws/runs/<run_id>/ ----------------------------------------------------------


@database_sync_to_async
def _visible_run(user: Any, run_id: uuid.UUID) -> Run | None:
    return runs_visible_to(user).filter(pk=run_id).first()


@database_sync_to_async
def _envelopes_after(run: Run, seq: int, before: int | None) -> list[Message]:
    records = run_events_after(run, seq)
    if before is not None:
        records = records.filter(seq__lt=before)
    return [services.event_envelope(record) for record in records[:REPLAY_BATCH_SIZE]]


@database_sync_to_async
def _cancel(user: Any, run_id: uuid.UUID) -> str:
    run = runs_visible_to(user).get(pk=run_id)
    return services.run_cancel(run=run, actor=user).status


def _seq_or_none(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _after_in_query(scope: dict[str, Any]) -> int:
    """``?after=N``; anything else means the whole log."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("after") or [""]
    return int(values[0]) if values[0].isascii() and values[0].isdigit() else 0


def _is_envelope(message: Message) -> bool:
    return "event" in message and "type" not in message


class RunEventsConsumer(StreamConsumer):
    """The run's event envelopes: the log after ``?after=`` (default 0), then live.

    ``sent_seq`` is the highest seq queued for this client: live envelopes at or
    below it are skipped, and a live envelope beyond ``sent_seq + 1`` is preceded
    by the missing ones from the log. Until the terminal event has gone out, the
    log is also re-read every ``CONDUCTOR_SSE_KEEPALIVE_SECONDS``, so that an event
    the channel layer lost still arrives. The socket stays open after the terminal
    event so that the client can still resume; the client closes it.
    """

    client_messages = frozenset({"ping", "resume", "cancel"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run: Run | None = None
        self.sent_seq = 0
        self.sent_terminal = False
        self._catching_up: asyncio.Task[None] | None = None
        self._following = False  # counted in idle_check while open

    async def authorize(self) -> bool:
        # An unknown run and another user's run look the same: no existence leak.
        self.run = await _visible_run(self.user, self.scope["url_route"]["kwargs"]["run_id"])
        return self.run is not None

    def stream_groups(self) -> list[str]:
        assert self.run is not None
        return [run_group(self.run.pk)]

    async def on_open(self) -> None:
        assert self.run is not None
        idle_check.follow(self.run.pk)
        self._following = True
        await self.replay(after=_after_in_query(self.scope))
        self._catching_up = asyncio.create_task(self._catch_up_while_live())

    async def on_close(self) -> None:
        if self._catching_up is not None:
            self._catching_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._catching_up
        if self.run is not None and self._following:
            idle_check.unfollow(self.run.pk)
            self._following = False

    async def replay(self, *, after: int) -> None:
        self.sent_seq = after
        self.sent_terminal = False
        await self._send_from_log(before=None)

    async def _catch_up_while_live(self) -> None:
        """Every idle interval, if the run logged past what was sent (checked for every
        idle stream at once), asks for a re-read of the log through the consumer's own
        channel: handlers run one at a time, so the re-read never interleaves with a live
        event or a resume. A quiet run costs no message."""
        assert self.run is not None
        idle = float(settings.CONDUCTOR_SSE_KEEPALIVE_SECONDS)
        while not self.closed:
            await asyncio.sleep(idle)
            if self.sent_terminal:
                continue
            if await idle_check.has_news(self.run.pk, self.sent_seq, max_age=idle / 2):
                await self.channel_layer.send(self.channel_name, {"type": "run.catch_up"})

    async def run_catch_up(self, message: Message) -> None:
        if self.closed or self.sent_terminal:
            return
        await self._send_from_log(before=None)

    async def _send_from_log(self, *, before: int | None) -> bool:
        assert self.run is not None
        while True:
            envelopes = await _envelopes_after(self.run, self.sent_seq, before)
            for envelope in envelopes:
                # A live envelope may have gone out while the log was being read.
                if envelope["id"] <= self.sent_seq:
                    continue
                if not await self._push_envelope(envelope, wait=True):
                    return False
            if len(envelopes) < REPLAY_BATCH_SIZE:
                return True

    async def _push_envelope(self, envelope: Message, *, wait: bool = False) -> bool:
        if not await self.push(envelope, wait=wait):
            return False
        self.sent_seq = envelope["id"]
        self.sent_terminal = envelope["event"] in TERMINAL_EVENTS
        return True

    async def run_event(self, message: Message) -> None:
        envelope = message["envelope"]
        seq = envelope["id"]
        if self.closed or seq <= self.sent_seq:
            return
        if seq > self.sent_seq + 1 and not await self._send_from_log(before=seq):
            return
        if seq > self.sent_seq:
            await self._push_envelope(envelope)

    async def on_resume(self, content: Message) -> None:
        after = _seq_or_none(content.get("after"))
        if after is None:
            await self.push_error("invalid_resume", '"after" must be a non-negative integer.')
            return
        self.forget_queued(_is_envelope)
        await self.replay(after=after)

    async def on_cancel(self, content: Message) -> None:
        assert self.run is not None
        try:
            status = await _cancel(self.user, self.run.pk)
        except Run.DoesNotExist:
            await self.push_error("not_found", "The run is no longer visible to you.")
        except ConductorError as error:
            await self.push_error(error.code, error.message)
        else:
            await self.push({"type": "cancel", "status": status})


# --- /ws/gamification/ and /ws/councilors/ ------------------------------------------

# Gamification sockets open in this process (each process counts its own).
connected_gamification_clients = 0


class GamificationConsumer(StreamConsumer):
    """Broadcasts by topic. A client gets every topic until its first ``subscribe``.

    A broadcast about one user's run reaches only that user and staff.

    ``get_stats`` reports the clients connected to this process and the events
    sent to this connection.
    """

    client_messages = frozenset({"ping", "subscribe", "get_stats"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topics: frozenset[str] | None = None
        self.events_sent = 0
        self._counted = False

    def stream_groups(self) -> list[str]:
        return [GAMIFICATION_GROUP]

    async def on_open(self) -> None:
        global connected_gamification_clients
        connected_gamification_clients += 1
        self._counted = True
        await self.push({"type": "connected", "topics": sorted(TOPICS)})

    async def on_close(self) -> None:
        global connected_gamification_clients
        if self._counted:
            connected_gamification_clients -= 1
            self._counted = False

    async def on_subscribe(self, content: Message) -> None:
        topics = content.get("topics")
        if not isinstance(topics, list) or not all(isinstance(topic, str) for topic in topics):
            await self.push_error("malformed_message", '"topics" must be a list of strings.')
            return
        unknown = sorted(set(topics) - TOPICS)
        if unknown:
            await self.push_error("unknown_topic", f"Unknown topics: {', '.join(unknown)}.")
            return
        self.topics = frozenset(topics)
        await self.push({"type": "subscribed", "topics": sorted(self.topics)})

    async def on_get_stats(self, content: Message) -> None:
        await self.push(
            {
                "type": "stats",
                "connected_clients": connected_gamification_clients,
                "events_sent": self.events_sent,
            }
        )

    async def gamification_event(self, message: Message) -> None:
        topic = message.get("topic")
        if self.topics is not None and topic not in self.topics:
            return
        if not self._in_audience(message.get("audience")):
            return
        event = {"type": "event", "topic": topic, "payload": message.get("payload")}
        if await self.push(event):
            self.events_sent += 1

    def _in_audience(self, audience: Any) -> bool:
        """Whether this user may see a broadcast about a run (see apps.streams.broadcast)."""
        return audience is None or self.user.is_staff or audience == self.user.pk


class CouncilorsConsumer(StreamConsumer):
    """Forwards councilor status and ``councilor.started|completed|error`` to any signed-in user."""

    def stream_groups(self) -> list[str]:
        return [COUNCILORS_GROUP]

    async def on_open(self) -> None:
        await self.push({"type": "connected"})

    async def councilor_status(self, message: Message) -> None:
        await self.push(dict(message))

    councilor_started = councilor_completed = councilor_error = councilor_status
