"""Dependency checks behind ``GET /health``."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypedDict
from urllib.parse import urlsplit, urlunsplit

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.db import connections


class CheckResult(TypedDict):
    ok: bool
    required: bool
    detail: str
    latency_ms: float


class HealthReport(TypedDict):
    status: str
    failing: list[str]
    checks: dict[str, CheckResult]


def redact_url(url: str) -> str:
    """The URL without its password, fit for a health report or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _ping_database() -> str:
    connection = connections["default"]
    try:
        connection.ensure_connection()
        return f"{connection.vendor} reachable"
    finally:
        connection.close()


async def check_database() -> str:
    # A private thread: a hung database must not block the shared sync thread.
    return await sync_to_async(_ping_database, thread_sensitive=False)()


async def check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")
    channel = await layer.new_channel("health.")
    try:
        await layer.send(channel, {"type": "health.ping"})
        message = await layer.receive(channel)
    finally:
        await _release(layer, channel)
    if message.get("type") != "health.ping":
        raise RuntimeError(f"channel layer returned an unexpected message: {message!r}")
    return f"{type(layer).__name__} round trip"


async def _release(layer: BaseChannelLayer, channel: str) -> None:
    """Lets go of a channel nobody will read again.

    The layers have no call for it: the pub/sub layer keeps the channel subscribed until a
    ``receive`` on it is cancelled (what a consumer's exit does), so the health check, which
    makes a channel each time, cancels one.
    """
    waiter = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await waiter


def _describe_backend(url: str) -> str:
    if url.startswith("redis"):
        return f"Redis at {redact_url(url)}"
    return redact_url(url)


def _ping_broker() -> str:
    from conductor_site.celery import app

    url = settings.CELERY_BROKER_URL
    with app.connection_for_write(url) as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=math.ceil(_timeout()))
    return f"{_describe_backend(url)} reachable"


async def check_broker() -> str:
    return await sync_to_async(_ping_broker, thread_sensitive=False)()


def _ping_workers() -> str:
    from conductor_site.celery import app

    # Liveness, not a census: the first reply is enough.
    replies = app.control.ping(timeout=min(_timeout(), 1.0), limit=1) or []
    names = sorted(name for reply in replies for name in reply)
    if not names:
        raise RuntimeError("no Celery worker answered a ping")
    return f"worker {names[0]} answered"


async def check_workers() -> str:
    return await sync_to_async(_ping_workers, thread_sensitive=False)()


def _timeout() -> float:
    return float(settings.CONDUCTOR_HEALTH_TIMEOUT)


async def _run_check(check: Callable[[], Awaitable[str]], required: bool) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), timeout=_timeout() + 0.5)
        ok = True
    except TimeoutError:
        ok, detail = False, f"timed out after {_timeout():.1f}s"
    except Exception as exc:  # a health check reports every failure, whatever it is
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return CheckResult(ok=ok, required=required, detail=detail, latency_ms=latency_ms)


def _name_failed_redis(result: CheckResult, url: str) -> CheckResult:
    if not result["ok"] and url.startswith("redis"):
        result["detail"] = f"Redis at {redact_url(url)} is unreachable: {result['detail']}"
    return result


async def collect_health() -> HealthReport:
    database, layer, broker = await asyncio.gather(
        _run_check(check_database, required=True),
        _run_check(check_channel_layer, required=True),
        _run_check(check_broker, required=True),
    )
    checks: dict[str, CheckResult] = {
        "database": database,
        "channel_layer": _name_failed_redis(layer, settings.REDIS_URL),
        "broker": _name_failed_redis(broker, settings.CELERY_BROKER_URL),
    }
    if broker["ok"]:
        checks["workers"] = await _run_check(
            check_workers, required=settings.CONDUCTOR_HEALTH_REQUIRE_WORKERS
        )
    else:
        checks["workers"] = CheckResult(
            ok=False,
            required=settings.CONDUCTOR_HEALTH_REQUIRE_WORKERS,
            detail="not checked: the broker is unreachable",
            latency_ms=0.0,
        )
    failing = [name for name, result in checks.items() if not result["ok"]]
    required_failing = [name for name in failing if checks[name]["required"]]
    status = "unavailable" if required_failing else ("degraded" if failing else "ok")
    return HealthReport(status=status, failing=failing, checks=checks)
