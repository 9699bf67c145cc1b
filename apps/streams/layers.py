"""The Redis channel layer: channels-redis's pub/sub layer, awake as soon as it subscribes.

channels-redis reads a connection's messages in a loop that, while the connection is
subscribed to nothing, sleeps 100 ms at a time and only then notices a new subscription.
The first stream a quiet process opened (the common case: one client watching the run it
just started) waited up to 100 ms for its first live event: bench/start_latency.py went from
a p50 of 49 ms to 106 ms with Redis. Here the loop waits for the subscription itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close, decode_hosts

logger = logging.getLogger(__name__)


class _Shard(RedisSingleShardConnection):
    def __init__(self, host: Any, channel_layer: Any) -> None:
        super().__init__(host, channel_layer)
        self._subscribed = asyncio.Event()

    async def subscribe(self, channel: str) -> None:
        await super().subscribe(channel)
        self._subscribed.set()

    async def _do_receiving(self) -> None:
        while True:
            try:
                self._subscribed.clear()
                if self._pubsub is not None and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    self._receive_message(message)
                else:
                    # Cleared before the check, so a subscription in between still wakes it.
                    await self._subscribed.wait()
            except (asyncio.CancelledError, TimeoutError, GeneratorExit):
                raise
            except Exception:
                logger.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_Shard(host, self) for host in decode_hosts(hosts)]


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
