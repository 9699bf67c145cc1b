"""Sending to a channel-layer group from sync code (the runtime, Celery tasks, services).

``async_to_sync`` called from a thread without an event loop starts a new loop on a new
thread for every call, and channels-redis keeps its connections per loop: every event a
run emitted paid for a thread, a loop and a fresh Redis connection. Here each process
keeps one publishing loop on a daemon thread instead, so the layer's connections are
opened once and reused. That loop sends through a layer instance of its own, built from
the same settings: the shared instance may be flushed from another loop (channels'
``flush()`` closes every loop's connections), which must not touch this loop's.

The in-memory layer (the embedded default) is the exception: its queues belong to the
loop that reads them, so it keeps ``async_to_sync``, which runs on that loop when called
from one of its threads.

:func:`publish` is what the runtime and the services use: it hands the message to that loop
and returns; the loop sends what it is handed one at a time, in order. Nobody waited for
the answer anyway (a lost publish is logged and the streams re-read the log), and waiting
cost a Redis round trip and two thread hand-offs per event: five per tool step, and three
before ``POST /api/runs/`` could answer. :func:`group_send` still waits, for callers that
need to know.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import (
    BaseChannelLayer,
    InMemoryChannelLayer,
    channel_layers,
    get_channel_layer,
)

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 5.0
THREAD_NAME = "channel-layer-publisher"
# Messages handed to the loop and not sent yet: past this (Redis down or slow for long),
# new ones are dropped with a warning rather than held in memory.
PENDING_LIMIT = 10_000


class _PublishingLoop:
    """One event loop per process, on a daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None
        self._shared: BaseChannelLayer | None = None
        self._layer: BaseChannelLayer | None = None
        self._outbox: asyncio.Queue[tuple[BaseChannelLayer, str, dict[str, Any]]] | None = None
        self._pending = 0  # handed over and not sent yet; guarded by _lock

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # A forked child (Celery's prefork pool) inherits the loop but not its thread.
            if self._loop is None or self._pid != os.getpid():
                self._loop = asyncio.new_event_loop()
                self._pid = os.getpid()
                self._outbox = None
                self._pending = 0
                threading.Thread(
                    target=self._loop.run_forever, name=THREAD_NAME, daemon=True
                ).start()
            return self._loop

    def layer_for(self, shared: BaseChannelLayer) -> BaseChannelLayer:
        """This loop's own instance of the layer ``shared`` was built from."""
        with self._lock:
            if self._shared is not shared:  # first use, or the settings changed
                old, self._layer = self._layer, channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
                self._shared = shared
                if old is not None and self._loop is not None:
                    asyncio.run_coroutine_threadsafe(_close(old), self._loop)
            assert self._layer is not None
            return self._layer

    def post(self, layer: BaseChannelLayer, group: str, message: dict[str, Any]) -> bool:
        """Hands a group_send to the loop, behind every earlier one; False when too many
        are waiting already (the message is dropped)."""
        loop = self.loop()
        with self._lock:
            if self._pending >= PENDING_LIMIT:
                return False
            self._pending += 1
        loop.call_soon_threadsafe(self._enqueue, layer, group, message)
        return True

    def _enqueue(self, layer: BaseChannelLayer, group: str, message: dict[str, Any]) -> None:
        # On the loop: the first message starts the task that sends them all, in order.
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            asyncio.get_running_loop().create_task(self._send_forever(self._outbox))
        self._outbox.put_nowait((layer, group, message))

    async def _send_forever(
        self, outbox: asyncio.Queue[tuple[BaseChannelLayer, str, dict[str, Any]]]
    ) -> None:
        while True:
            layer, group, message = await outbox.get()
            try:
                await asyncio.wait_for(layer.group_send(group, message), PUBLISH_TIMEOUT_SECONDS)
            except Exception:
                # The log is the source of truth: streams re-read what live delivery missed.
                logger.warning(
                    "could not publish %s to %s", message.get("type"), group, exc_info=True
                )
            finally:
                with self._lock:
                    self._pending -= 1

    def pending(self) -> int:
        with self._lock:
            return self._pending if self._pid == os.getpid() else 0

    def run(self, coroutine: Any, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop())
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"the channel layer did not answer within {timeout:g} s") from None


async def _close(layer: BaseChannelLayer) -> None:
    """Closes the connections of a layer instance this loop no longer uses."""
    from channels_redis.pubsub import RedisPubSubChannelLayer

    # Looked up on the class: the pub/sub layer answers unknown attributes through a
    # per-loop instance, which needs a running loop.
    if hasattr(type(layer), "close_pools"):
        await layer.close_pools()  # the core Redis layer
    elif isinstance(layer, RedisPubSubChannelLayer):
        await layer.flush()  # its flush() closes its connections


_publishing_loop = _PublishingLoop()


def group_send(group: str, message: dict[str, Any], *, timeout: float | None = None) -> None:
    """Sends ``message`` to ``group``; raises what the layer raises (callers decide)."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        # Its groups live in this process: nobody listening, nothing to hand over. A
        # stream joining meanwhile reads the log after joining, and publishing follows
        # the commit, so it still gets the event.
        if layer.groups.get(group):
            async_to_sync(layer.group_send)(group, message)
        return
    own = _publishing_loop.layer_for(layer)
    _publishing_loop.run(own.group_send(group, message), timeout or PUBLISH_TIMEOUT_SECONDS)


def publish(group: str, message: dict[str, Any]) -> None:
    """Sends ``message`` to ``group`` without waiting: queued in order on the publishing loop,
    which logs a send that fails. Returns at once, also while Redis is down."""
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        group_send(group, message)  # in this process: nothing to wait for but the loop
        return
    if not _publishing_loop.post(_publishing_loop.layer_for(layer), group, message):
        logger.warning(
            "dropped %s to %s: %d publishes are waiting already",
            message.get("type"),
            group,
            PENDING_LIMIT,
        )


def wait_for_publishes(timeout: float = PUBLISH_TIMEOUT_SECONDS) -> bool:
    """Waits until every message handed to :func:`publish` was sent (or given up on);
    False if some are still waiting after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while _publishing_loop.pending():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True
