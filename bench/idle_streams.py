"""Streams at rest: the memory and CPU one daphne process spends on idle streams.

1,000 SSE and 1,000 WebSocket connections, each following a run that emits nothing, held
open against one daphne process (Redis channel layer). Reported: the process's RSS growth
per connection (VmRSS before and after opening them, after a warm-up connection of each
kind) and the CPU it uses while they idle (utime+stime from /proc over a window), as a %
of one core. The baseline is the same process with no stream open, measured in this run.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from bench import _fanout_common as common
from bench._common import Result, exit_code, parse_args

RUNS = 50  # the streams follow these runs, 40 streams of each kind per run


async def _cpu_percent(pid: int, seconds: float) -> float:
    started, cpu = time.monotonic(), common.cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return round(100 * (common.cpu_seconds(pid) - cpu) / (time.monotonic() - started), 2)


async def measure(
    site: common.Site, connections: int, window: float, result: Result
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with common.daphne(site, "pubsub", "idle") as (process, port):
        pid = process.pid
        paths = {
            kind: [common.path_for(kind, site.runs[i % RUNS]) for i in range(connections)]
            for kind in ("sse", "ws")
        }
        opened: list[common.Subscriber] = []
        try:
            # Warm-up: first requests import and cache what every later one reuses.
            for kind in ("sse", "ws"):
                warm = await common.open_subscribers(kind, port, paths[kind][:5], site.token)
                common.close_all(warm)
            await asyncio.sleep(2)
            rss_before = common.rss_bytes(pid)
            cpu_before = await _cpu_percent(pid, window)
            result.add_row(
                state="no streams",
                connections=0,
                rss_mb=round(rss_before / 2**20, 1),
                cpu_pct_of_core=cpu_before,
            )
            rss = rss_before
            for kind in ("sse", "ws"):
                started = time.monotonic()
                opened += await common.open_subscribers(kind, port, paths[kind], site.token)
                connect_s = round(time.monotonic() - started, 1)
                await asyncio.sleep(3)
                now = common.rss_bytes(pid)
                figures[f"{kind}_kb_per_conn"] = round((now - rss) / connections / 1024, 1)
                result.add_row(
                    state=f"+{connections} idle {kind}",
                    connections=len(opened),
                    rss_mb=round(now / 2**20, 1),
                    kb_per_connection=figures[f"{kind}_kb_per_conn"],
                    connect_s=connect_s,
                )
                rss = now
            cpu_idle = await _cpu_percent(pid, window)
            dropped = sum(1 for subscriber in opened if subscriber.closed.done())
            figures.update(
                kb_per_conn=round((rss - rss_before) / len(opened) / 1024, 1),
                cpu=cpu_idle,
                cpu_delta=round(cpu_idle - cpu_before, 2),
                dropped=dropped,
            )
            result.add_row(
                state="all idle",
                connections=len(opened),
                rss_mb=round(rss / 2**20, 1),
                kb_per_connection=figures["kb_per_conn"],
                cpu_pct_of_core=cpu_idle,
                closed_by_server=dropped,
            )
        finally:
            common.close_all(opened)
            await asyncio.sleep(0.5)
    return figures


def main() -> int:
    args = parse_args(__doc__ or "")
    common.raise_open_files()
    connections = 1000
    window = 16.0 if args.quick else 31.0  # spans one (two) 15 s keepalive rounds
    result = Result("idle_streams", quick=args.quick)
    site = common.prepare_site(runs=RUNS)
    figures = asyncio.run(measure(site, connections, window, result))
    result.target("RSS growth per connection", figures["kb_per_conn"], "<", 64, " KB")
    result.target("CPU of daphne while idle", figures["cpu"], "<", 2, "% of a core")
    result.target("streams closed by the server", figures["dropped"], "==", 0)
    result.notes.append(
        f"{connections} SSE + {connections} WebSocket streams on {RUNS} runs that emit nothing;"
        f" CPU over {window:g} s (CONDUCTOR_SSE_KEEPALIVE_SECONDS=15); one daphne process,"
        " SQLite, the default Redis channel layer (pub/sub, apps.streams.layers)."
    )
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
