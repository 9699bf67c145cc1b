"""Django's Redis cache, failing open: a Redis outage must not fail the requests that use it.

The cache holds nothing that is not disposable: the rate limits' counters. While Redis is
unreachable, reads miss and writes are dropped with a warning, so the throttled endpoints
(``POST /api/auth/token/``, the portfolio chat) go on answering, unthrottled, instead of
answering 500; the limits hold again as soon as Redis is back. ``incr`` and ``clear`` have
no harmless fallback and still raise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


@contextmanager
def _outage_tolerated(operation: str) -> Iterator[None]:
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as exc:
        logger.warning("cache %s skipped, Redis is unreachable: %s", operation, exc)


class FailOpenRedisCacheClient(RedisCacheClient):
    def get(self, key: Any, default: Any) -> Any:
        with _outage_tolerated("get"):
            return super().get(key, default)
        return default

    def get_many(self, keys: Any) -> dict[Any, Any]:
        with _outage_tolerated("get_many"):
            return super().get_many(keys)
        return {}

    def has_key(self, key: Any) -> bool:
        with _outage_tolerated("has_key"):
            return super().has_key(key)
        return False

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        with _outage_tolerated("add"):
            return super().add(key, value, timeout)
        return False

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        with _outage_tolerated("set"):
            super().set(key, value, timeout)

    def set_many(self, data: Any, timeout: Any) -> None:
        with _outage_tolerated("set_many"):
            super().set_many(data, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        with _outage_tolerated("touch"):
            return super().touch(key, timeout)
        return False

    def delete(self, key: Any) -> bool:
        with _outage_tolerated("delete"):
            return super().delete(key)
        return False

    def delete_many(self, keys: Any) -> None:
        with _outage_tolerated("delete_many"):
            super().delete_many(keys)


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FailOpenRedisCacheClient
