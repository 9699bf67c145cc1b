"""Publishes run envelopes into a run's group as the runtime does (apps.runs.services._publish):
``group_send(run_group(id), {"type": "run.event", "envelope": ...})`` on the given layer.

Usage: python -m bench._fanout_publish LAYER_CLASS REDIS_URL PREFIX GROUP RUN_ID COUNT RATE
It waits for one line on stdin, then sends seqs 1..COUNT at RATE per second, each envelope
stamped with its publish time (``data.t``, time.time()), and prints how long it took.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import sys
import time


async def publish(
    layer_class: str, url: str, prefix: str, group: str, run_id: str, count: int, rate: float
) -> None:
    module, _, name = layer_class.rpartition(".")
    layer = getattr(importlib.import_module(module), name)(hosts=[url], prefix=prefix)
    await layer.group_send("bench.nobody", {"type": "bench.warmup"})  # connects
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    started = time.monotonic()
    for seq in range(1, count + 1):
        delay = started + (seq - 1) / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.time()
        envelope = {
            "id": seq,
            "run_id": run_id,
            "event": "llm.delta",
            "data": {"t": now, "delta": "token "},
            "timestamp": datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(),
        }
        await layer.group_send(group, {"type": "run.event", "envelope": envelope})
    print(f"published {count} in {time.monotonic() - started:.3f}s", flush=True)
    close = getattr(layer, "close_pools", None) or getattr(layer, "flush", None)
    if close is not None:
        await close()


def main() -> None:
    layer_class, url, prefix, group, run_id, count, rate = sys.argv[1:8]
    asyncio.run(publish(layer_class, url, prefix, group, run_id, int(count), float(rate)))


if __name__ == "__main__":
    main()
