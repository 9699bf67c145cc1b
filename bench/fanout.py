"""Event fan-out: publish-to-receive latency of one run's events to 1, 100 and 1,000
subscribers over WebSocket and SSE through one daphne process, against a raw channels-redis
``group_send`` -> ``receive`` loop with the same number of channels and no HTTP.

Events go into the run's group exactly as the runtime publishes them (the message
``apps.runs.services._publish`` sends), from a separate publisher process, at a fixed
rate, each stamped with its publish time. Both Redis layers of channels_redis are measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench import _fanout_common as common
from bench._common import Result, exit_code, parse_args, percentile

RATE = 200.0
# conductor_site/settings.py with REDIS_URL; the other one is measured for comparison.
DEFAULT_LAYER, OTHER_LAYER = "pubsub", "core"
SETTLE_SECONDS = 1.5
# After the publisher is done, a scenario ends when everything arrived, or nothing more
# arrived for this long.
STALL_SECONDS = 8.0


def _stats(per_subscriber: Sequence[dict[int, float]], events: int) -> dict[str, Any]:
    values = [latency * 1000 for got in per_subscriber for latency in got.values()]
    return {
        "p50_ms": round(percentile(values, 50), 2),
        "p99_ms": round(percentile(values, 99), 2),
        "max_ms": round(max(values), 2) if values else float("nan"),
        "lost": len(per_subscriber) * events - len(values),
    }


async def _drain(
    per_subscriber: Sequence[dict[int, float]], expected: int, published: asyncio.Future[Any]
) -> None:
    last, last_change = -1, time.monotonic()
    while True:
        await asyncio.sleep(0.1)
        total = sum(len(got) for got in per_subscriber)
        if total >= expected:
            return
        if total != last:
            last, last_change = total, time.monotonic()
        elif published.done() and time.monotonic() - last_change > STALL_SECONDS:
            return


async def _publish(layer: str, prefix: str, group: str, run_id: str, events: int) -> Any:
    """Starts the publisher process; returns a future done when it has sent everything."""
    process = common.publisher(layer, prefix, group, run_id, events, RATE)
    await asyncio.sleep(SETTLE_SECONDS)  # its interpreter starts while subscribers settle
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()
    loop = asyncio.get_running_loop()
    return process, loop.run_in_executor(None, process.wait, 120)


async def raw_layer(layer: str, subscribers: int, events: int) -> dict[str, Any]:
    """The baseline: ``subscribers`` channels of one layer in one group, received here."""
    module, _, name = common.LAYERS[layer].rpartition(".")
    prefix = common.layer_prefix(f"raw-{layer}-{subscribers}")
    channel_layer = getattr(importlib.import_module(module), name)(
        hosts=[common.BENCH_REDIS_URL], prefix=prefix
    )
    group = f"run.raw-{subscribers}"
    channels = [await channel_layer.new_channel() for _ in range(subscribers)]
    for channel in channels:
        await channel_layer.group_add(group, channel)
    per_subscriber: list[dict[int, float]] = [{} for _ in channels]

    async def receive(channel: str, got: dict[int, float]) -> None:
        while len(got) < events:
            message = await channel_layer.receive(channel)
            now = time.time()
            envelope = message.get("envelope")
            if envelope:
                got.setdefault(envelope["id"], now - envelope["data"]["t"])

    receivers = [
        asyncio.create_task(receive(channel, got))
        for channel, got in zip(channels, per_subscriber, strict=True)
    ]
    process = None
    try:
        process, published = await _publish(layer, prefix, group, "raw", events)
        await asyncio.wait_for(_drain(per_subscriber, subscribers * events, published), 180)
        await published
    finally:
        for task in receivers:
            task.cancel()
        await asyncio.gather(*receivers, return_exceptions=True)
        if process is not None:
            common.stop(process)
        with contextlib.suppress(Exception):
            for channel in channels:
                await channel_layer.group_discard(group, channel)
            await channel_layer.flush()
    return _stats(per_subscriber, events)


async def through_daphne(
    layer: str,
    kind: str,
    server: int,
    port: int,
    site: common.Site,
    run_id: str,
    subscribers: int,
    events: int,
    tag: str,
) -> dict[str, Any]:
    paths = [common.path_for(kind, run_id)] * subscribers
    opened_at = time.monotonic()
    opened = await common.open_subscribers(kind, port, paths, site.token)
    connect_s = time.monotonic() - opened_at
    per_subscriber = [subscriber.latencies for subscriber in opened]
    process = None
    try:
        cpu_before = common.cpu_seconds(server)
        process, published = await _publish(
            layer, common.layer_prefix(tag), f"run.{run_id}", run_id, events
        )
        await asyncio.wait_for(_drain(per_subscriber, subscribers * events, published), 180)
        await published
        cpu = common.cpu_seconds(server) - cpu_before
        closed_early = sum(1 for subscriber in opened if subscriber.closed.done())
    finally:
        if process is not None:
            common.stop(process)
        common.close_all(opened)
        await asyncio.sleep(0.5)
    stats = _stats(per_subscriber, events)
    delivered = subscribers * events - stats["lost"]
    return {
        **stats,
        "connect_s": round(connect_s, 1),
        "closed": closed_early,
        # daphne's CPU time per delivered frame: what one event costs per subscriber.
        "cpu_us_per_frame": round(cpu / delivered * 1e6) if delivered else None,
    }


async def run(
    quick: bool, result: Result, site: common.Site
) -> dict[tuple[str, str, int], dict[str, Any]]:
    events = 100 if quick else 500
    counts = (1, 100, 1000)
    runs = iter(site.runs)
    figures: dict[tuple[str, str, int], dict[str, Any]] = {}

    def row(setup: str, layer: str, subscribers: int, stats: dict[str, Any]) -> None:
        figures[(setup, layer, subscribers)] = stats
        result.add_row(setup=setup, layer=layer, subscribers=subscribers, events=events, **stats)
        print(f"  {setup:<14} {layer:<7} {subscribers:>5}: {stats}", flush=True)

    for layer in (DEFAULT_LAYER, OTHER_LAYER):
        for subscribers in counts:
            row("raw layer", layer, subscribers, await raw_layer(layer, subscribers, events))
        setups = [("ws", n) for n in counts] + [("sse", n) for n in counts]
        if quick:  # what run_all can afford: every size over WebSocket on the default
            setups = [("ws", 1), ("ws", 100), ("ws", 1000), ("sse", 100)]
            if layer != DEFAULT_LAYER:
                setups = []  # its raw rows already show it losing messages
        for kind, subscribers in setups:
            # A fresh daphne each time: a saturated one keeps working off its backlog.
            tag = f"daphne-{layer}-{kind}-{subscribers}"
            with common.daphne(site, layer, tag) as (server, port):
                stats = await through_daphne(
                    layer, kind, server.pid, port, site, next(runs), subscribers, events, tag
                )
            row(f"daphne {kind}", layer, subscribers, stats)
    return figures


def main() -> int:
    args = parse_args(__doc__ or "")
    common.raise_open_files()
    result = Result("fanout", quick=args.quick)
    events = 100 if args.quick else 500
    site = common.prepare_site(runs=16)
    from django.conf import settings

    configured = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    assert configured == common.LAYERS[DEFAULT_LAYER], f"settings use {configured}"
    figures = asyncio.run(run(args.quick, result, site))

    default = DEFAULT_LAYER
    ws = figures[("daphne ws", default, 1000)]
    raw = figures[("raw layer", default, 1000)]
    result.target("ws 1000 subscribers p99", ws["p99_ms"], "<", 100, " ms")
    result.target("ws 1000 subscribers lost", ws["lost"], "==", 0)
    result.target(
        "ws 1000 p50 / raw layer 1000 p50", round(ws["p50_ms"] / raw["p50_ms"], 2), "<=", 2
    )
    result.notes.append(
        f"{events} events at {RATE:g}/s into one run's group from a separate publisher process;"
        " latency = receive time - publish time over every (subscriber, event); one daphne"
        " process, Redis and this process share the machine's cores."
    )
    result.notes.append(f"project default layer: {default}; other rows are for comparison")
    per_frame = ws.get("cpu_us_per_frame")
    if per_frame:
        needed = 1000 * RATE * per_frame / 1e6
        result.notes.append(
            f"daphne spent {per_frame} us of CPU per WebSocket frame delivered at 1,000"
            f" subscribers: one core sustains about {1e6 / per_frame:,.0f} frames/s, and 1,000"
            f" subscribers x {RATE:g} events/s = {1000 * RATE:,.0f} frames/s would need about"
            f" {needed:.0f} cores of daphne (bench/README.md: the profile)."
        )
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
