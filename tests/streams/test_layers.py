"""The Redis channel layer (apps.streams.layers): a quiet process hears its first subscriber's
messages at once, not on the next 100 ms tick of channels-redis's reader."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer

from apps.streams.layers import PubSubChannelLayer
from tests.services import redis_url

pytestmark = pytest.mark.redis


async def first_message_delays(layer_class: type, tries: int) -> list[float]:
    """Seconds from publishing to receiving, each time on a channel subscribed just before,
    in a process whose reader had nothing subscribed (the previous channel was let go)."""
    prefix = f"test-layers-{uuid.uuid4().hex}"
    listener = layer_class(hosts=[redis_url()], prefix=prefix)
    sender = layer_class(hosts=[redis_url()], prefix=prefix)
    delays = []
    try:
        for _ in range(tries):
            channel = await listener.new_channel()
            receiving = asyncio.ensure_future(listener.receive(channel))
            await asyncio.sleep(0.03)  # the reader is idle again, as between two streams
            started = time.perf_counter()
            await sender.send(channel, {"type": "test.message"})
            await asyncio.wait_for(receiving, 5)
            delays.append(time.perf_counter() - started)
            # Let the channel go as a consumer does: cancel a receive on it.
            waiter = asyncio.ensure_future(listener.receive(channel))
            await asyncio.sleep(0)
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            await asyncio.sleep(0.03)
    finally:
        await listener.flush()
        await sender.flush()
    return delays


async def test_the_first_subscription_of_a_quiet_process_is_heard_at_once():
    delays = await first_message_delays(PubSubChannelLayer, tries=9)

    # channels-redis's own reader sleeps 100 ms at a time with nothing subscribed.
    assert statistics.median(delays) < 0.015, delays


async def test_it_is_the_pubsub_layer_of_channels_redis_otherwise():
    layer = PubSubChannelLayer(hosts=[redis_url()], prefix=f"test-layers-{uuid.uuid4().hex}")
    channel = await layer.new_channel()
    try:
        await layer.group_add("watchers", channel)
        await layer.group_send("watchers", {"type": "test.message", "n": 1})

        assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == 1
        assert isinstance(layer, RedisPubSubChannelLayer)
    finally:
        await layer.flush()
