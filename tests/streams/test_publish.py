"""Publishing from sync code (apps/streams/publish.py): one loop per process, reused."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
from typing import Any

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer

from apps.streams import publish as publishing
from apps.streams.publish import group_send, publish, wait_for_publishes
from tests.services import redis_url


class SilentLayer(BaseChannelLayer):
    """A channel layer that never answers a group_send."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(3600)


@pytest.fixture
def silent_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.streams.test_publish.SilentLayer"}}


class FailingLayer(BaseChannelLayer):
    """A channel layer whose every group_send fails."""

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Redis is down")


@pytest.fixture
def quick_timeout(monkeypatch):
    """Sends to a silent layer give up at once: the publishing loop is the process's."""
    monkeypatch.setattr(publishing, "PUBLISH_TIMEOUT_SECONDS", 0.05)
    yield
    drained()


def drained() -> None:
    assert wait_for_publishes(), "publishes still waiting"


@pytest.fixture
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url()], "prefix": f"test-publish-{uuid.uuid4().hex}"},
        }
    }
    return get_channel_layer()


@pytest.fixture
def pubsub_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.streams.layers.PubSubChannelLayer",
            "CONFIG": {"hosts": [redis_url()], "prefix": f"test-publish-{uuid.uuid4().hex}"},
        }
    }
    return get_channel_layer()


def connections_opened() -> int:
    return int(redis.Redis.from_url(redis_url()).info("stats")["total_connections_received"])


def receive_all(layer: Any, channel: str, count: int) -> list[int]:
    async def receive() -> list[int]:
        return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(count)]

    return async_to_sync(receive)()


def listening_channel(layer: Any, group: str) -> str:
    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    return async_to_sync(join)()


def sent_from_a_thread(layer: Any, group: str, send: Any, count: int) -> list[int]:
    """Subscribes to ``group``, has ``send`` publish ``count`` numbered messages from a thread
    of its own (the runtime: sync code), and returns the numbers as received."""

    def send_all() -> None:
        for n in range(count):
            send(group, {"type": "test.message", "n": n})

    async def subscribe_then_receive() -> list[int]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await asyncio.get_running_loop().run_in_executor(None, send_all)
            return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(count)]
        finally:
            await layer.flush()

    return async_to_sync(subscribe_then_receive)()


def test_a_layer_that_does_not_answer_times_out_instead_of_hanging(silent_layer):
    started = time.monotonic()

    with pytest.raises(TimeoutError, match=r"did not answer within 0\.2 s"):
        group_send("anything", {"type": "x"}, timeout=0.2)

    assert time.monotonic() - started < 2


@pytest.mark.redis
def test_publishing_from_a_worker_thread_reuses_its_redis_connection(redis_layer):
    group = "publish-reuse"
    channel = listening_channel(redis_layer, group)
    before = connections_opened()

    def publish() -> None:
        for n in range(50):
            group_send(group, {"type": "test.message", "n": n})

    worker = threading.Thread(target=publish)
    worker.start()
    worker.join(30)

    # async_to_sync from a thread opened a new event loop, and so a new connection, per call.
    assert connections_opened() - before <= 2
    assert receive_all(redis_layer, channel, 50) == list(range(50))


@pytest.mark.redis
def test_a_forked_child_publishes_on_a_loop_of_its_own(redis_layer):
    group = "publish-fork"
    channel = listening_channel(redis_layer, group)
    group_send(group, {"type": "test.message", "n": 1})  # the parent's loop is running

    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        status = 1
        try:
            group_send(group, {"type": "test.message", "n": 2}, timeout=5)
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert receive_all(redis_layer, channel, 2) == [1, 2]


@pytest.mark.redis
def test_the_pubsub_layer_delivers_what_a_worker_thread_publishes_on_one_connection(
    pubsub_layer,
):
    before = connections_opened()

    assert sent_from_a_thread(pubsub_layer, "publish-pubsub", group_send, 30) == list(range(30))
    # The subscriber's connection and the publishing loop's one: not one per event.
    assert connections_opened() - before < 10


def test_the_in_memory_layer_skips_a_group_nobody_is_in(settings, monkeypatch):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    hops = []
    real_group_send = layer.group_send

    async def counted(group: str, message: dict[str, Any]) -> None:
        hops.append(group)
        await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", counted)

    async def listen() -> list[int]:
        channel = await layer.new_channel()
        await layer.group_add("watched", channel)
        await asyncio.get_running_loop().run_in_executor(None, publish_to_both)
        return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(2)]

    def publish_to_both() -> None:  # the runtime: sync code on a thread of its own
        for n in range(2):
            group_send("unwatched", {"type": "test.message", "n": n})
            group_send("watched", {"type": "test.message", "n": n})

    assert async_to_sync(listen)() == [0, 1]
    assert hops == ["watched", "watched"]


def test_publish_returns_without_waiting_for_the_layer(silent_layer, quick_timeout):
    started = time.monotonic()

    for n in range(20):
        publish("anything", {"type": "x", "n": n})

    assert time.monotonic() - started < 0.05  # 20 sends of at least 50 ms each: not waited


def test_a_publish_that_fails_is_logged_not_raised(settings, caplog):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "tests.streams.test_publish.FailingLayer"}}

    with caplog.at_level(logging.WARNING, logger="apps.streams.publish"):
        publish("runs.abc", {"type": "run.event"})
        drained()

    assert "could not publish run.event to runs.abc" in caplog.text


def test_past_the_pending_limit_a_publish_is_dropped_with_a_warning(
    silent_layer, quick_timeout, monkeypatch, caplog
):
    monkeypatch.setattr(publishing, "PENDING_LIMIT", 3)

    with caplog.at_level(logging.WARNING, logger="apps.streams.publish"):
        for n in range(5):
            publish("busy", {"type": "x", "n": n})

    assert caplog.text.count("dropped x to busy: 3 publishes are waiting already") == 2


@pytest.mark.redis
def test_publishes_from_a_worker_thread_arrive_in_order(pubsub_layer):
    assert sent_from_a_thread(pubsub_layer, "publish-order", publish, 200) == list(range(200))
