"""Soak: many runs through Redis and PostgreSQL, two Celery workers, 50 SSE clients following.

``python -m bench.soak [--runs 500] [--streams 50]`` (outside CI; ``--runs 50`` for a quick
check). One daphne process serves the API and the streams; two Celery worker processes
(prefork, one pool process each, as bench._runs_common.WORKER_ARGS) execute the runs; the
instant fake LLM (bench._runs_fake) answers each run with 1 to 4 calls of a no-op tool,
then a final text. PostgreSQL database ``rel_soak`` (dropped and created afresh) and Redis
db 10 (flushed). Each of the stream clients, in turn until every run is taken, posts a run
and reads its SSE stream to the end while it is queued and executed.

Checked, and printed; exit 1 if any check fails:

- every run reached a terminal status (and, the fake LLM never failing, succeeded);
- every run's event log is complete: seq 1..n, no gap, no duplicate, ``last_event_seq`` = n,
  exactly one terminal event, last, matching the status, one ``llm.completed`` per scripted
  step;
- every stream client received exactly the events of its run's log (seq, name, data);
- no database connection leak: per process group, the PostgreSQL connections its
  processes hold never exceed their pools' maximum, nor does the server's count for the
  soak database (``pg_stat_activity``); start, middle and end are printed;
- resident memory of the web and worker processes stays flat: first, peak and last, and
  the least-squares slope over the second half of the soak, whose growth across that half
  must stay under max(8 MB, 5% of the first sample).

Results also go to bench/results/soak/soak.json (not bench/results/, whose files
bench/report.py turns into the README table of bench/run_all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench._common import PRODUCTION_SETTINGS, RESULTS_DIR, machine, print_table
from bench._runs_common import (
    AGENT_SLUG,
    PYTHON,
    WORKER_ARGS,
    Child,
    base_env,
    children,
    fake_llm_env,
    migrate_and_setup,
    plugin_dir,
    spawn,
    spawn_daphne,
    start_fake_llm,
    steps_marker,
)
from bench._soak_sampling import PROBE_APPLICATION, Sample, Sampler, group_members, slope
from bench.start_latency import wait_healthy

DATABASE = "rel_soak"
SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DATABASE_URL = f"{SERVER_URL}/{DATABASE}"
REDIS_URL = "redis://127.0.0.1:6379/10"  # Redis db 0 is other people's

RUN_DEADLINE_SECONDS = 300.0  # from the POST to the stream's end, queueing included
# psycopg_pool's default max_size (= its min_size, 4): settings.py asks for pool=True.
POOL_MAX = 4
RSS_GROWTH_FLOOR_MB = 8.0
RSS_GROWTH_SHARE = 0.05
TERMINAL_EVENTS = {"run.succeeded", "run.failed", "run.cancelled", "run.timed_out"}


def steps_for(index: int) -> int:
    """LLM calls of run ``index``: 2 to 5, so 1 to 4 tool calls and their events."""
    return 2 + index % 4


# --- Services and children ---------------------------------------------------------


def psql(sql: str) -> None:
    out = subprocess.run(
        ["psql", SERVER_URL + "/postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"psql {sql!r} failed: {out.stderr}")


def fresh_services() -> None:
    """An empty soak database (its old connections ended) and an empty Redis db."""
    import redis

    psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    psql(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(REDIS_URL).flushdb()


def redis_subscriptions() -> int:
    """Channels and patterns subscribed to by the clients of the soak's Redis db.

    Each open stream holds two (its channel and its run's group); the workers hold their
    broadcast ones. Counted while nothing streams, it must come back to where it was.
    """
    import redis

    clients = redis.Redis.from_url(REDIS_URL).client_list()
    db = int(REDIS_URL.rsplit("/", 1)[1])
    return sum(
        int(client.get("sub", 0)) + int(client.get("psub", 0))
        for client in clients
        if int(client.get("db", -1)) == db
    )


def probe_connection() -> Any:
    import psycopg

    return psycopg.connect(DATABASE_URL, autocommit=True, application_name=PROBE_APPLICATION)


def start_servers(
    started: list[Child], env: dict[str, str], workers: int
) -> tuple[str, dict[str, Child]]:
    """daphne and the workers; the web server's base URL, and each child by its role."""
    web, base = spawn_daphne(started, env)
    servers = {"web (daphne)": web}
    for number in range(1, workers + 1):
        name = f"soak{number}"
        servers[f"worker {number}"] = spawn(
            started, name, [PYTHON, *WORKER_ARGS, "--hostname", f"{name}@%h"], env
        )
    return base, servers


def wait_for_workers(count: int, timeout: float = 120.0) -> list[str]:
    """Every worker answers a ping: /health is satisfied by the first one."""
    from celery import Celery

    app = Celery(broker=REDIS_URL)
    deadline = time.monotonic() + timeout
    names: set[str] = set()
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0) or []
        names = {name for reply in replies for name in reply if name.startswith("soak")}
        if len(names) >= count:
            return sorted(names)
    raise RuntimeError(f"only {sorted(names)} of {count} workers answered a ping")


# --- The clients ---------------------------------------------------------------------


@dataclass
class Followed:
    """One run as its stream client saw it."""

    index: int
    run_id: str = ""
    opened_at: float = 0.0  # time.time() when its stream was requested
    frames: list[tuple[int, str, str, Any]] = field(default_factory=list)  # seq, event, run, data
    error: str = ""


@dataclass
class Progress:
    done: int = 0


def run_body(index: int) -> dict[str, str]:
    return {
        "agent": AGENT_SLUG,
        "input": f"Soak run {index}. {steps_marker(steps_for(index))}",
        "cwd": "/srv/soak",
    }


async def read_stream(client: httpx.AsyncClient, followed: Followed) -> None:
    async with client.stream("GET", f"/api/runs/{followed.run_id}/events/") as response:
        if response.status_code != 200:
            followed.error = f"stream answered {response.status_code}"
            return
        fields: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line:
                if not line.startswith(":"):  # a comment: the keepalive
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                envelope = json.loads(fields["data"])
                if (str(envelope["id"]), envelope["event"]) != (fields["id"], fields["event"]):
                    followed.error = f"frame fields disagree with its data: {fields}"
                followed.frames.append(
                    (envelope["id"], envelope["event"], envelope["run_id"], envelope["data"])
                )
            fields = {}


async def follow(client: httpx.AsyncClient, index: int) -> Followed:
    followed = Followed(index)
    try:
        response = await client.post("/api/runs/", json=run_body(index))
        if response.status_code != 202:
            followed.error = f"POST /api/runs/ answered {response.status_code}: {response.text}"
            return followed
        followed.run_id = response.json()["id"]
        followed.opened_at = time.time()
        await asyncio.wait_for(read_stream(client, followed), RUN_DEADLINE_SECONDS)
    except (httpx.HTTPError, TimeoutError, ValueError, KeyError) as exc:
        followed.error = f"{type(exc).__name__}: {exc}"
    return followed


async def drive(
    base: str, token: str, runs: range, streams: int, progress: Progress
) -> list[Followed]:
    """``streams`` clients at once; each posts the next run and follows it to its end."""
    results: list[Followed] = []
    indices = iter(runs)
    limits = httpx.Limits(max_connections=streams * 2, max_keepalive_connections=streams * 2)
    async with httpx.AsyncClient(
        base_url=base,
        headers={"Authorization": f"Token {token}"},
        timeout=httpx.Timeout(60.0),
        limits=limits,
    ) as client:

        async def stream_client() -> None:
            for index in indices:  # shared: each client takes the next run
                results.append(await follow(client, index))
                progress.done += 1

        await asyncio.gather(*(stream_client() for _ in range(streams)))
    return sorted(results, key=lambda followed: followed.index)


# --- The checks ------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    failures: int
    total: int
    examples: list[str] = field(default_factory=list)

    def fail(self, example: str) -> None:
        self.failures += 1
        if len(self.examples) < 3:
            self.examples.append(example)

    @property
    def ok(self) -> bool:
        return self.failures == 0


def stored_runs(followed: list[Followed]) -> tuple[dict[str, tuple[str, int]], dict[str, list]]:
    """Status and last_event_seq of each run, and its logged events, from PostgreSQL."""
    ids = [f.run_id for f in followed if f.run_id]
    with probe_connection() as connection:
        runs = {
            str(run_id): (status, last_seq)
            for run_id, status, last_seq in connection.execute(
                "SELECT id, status, last_event_seq FROM runs_run WHERE id = ANY(%s::uuid[])",
                (ids,),
            )
        }
        logs: dict[str, list] = {run_id: [] for run_id in ids}
        for run_id, seq, event, data, timestamp in connection.execute(
            "SELECT run_id, seq, event, data, timestamp FROM runs_runevent"
            " WHERE run_id = ANY(%s::uuid[]) ORDER BY run_id, seq",
            (ids,),
        ):
            logs[str(run_id)].append((seq, event, str(run_id), data, timestamp.timestamp()))
    return runs, logs


def check_runs(followed: list[Followed]) -> tuple[list[Check], dict[str, Any]]:
    runs, logs = stored_runs(followed)
    total = len(followed)
    started = Check("runs started and followed without a client error", 0, total)
    terminal = Check("runs in a terminal status", 0, total)
    succeeded = Check("runs succeeded", 0, total)
    complete = Check("event logs complete (seq 1..n, one terminal event, every step)", 0, total)
    streamed = Check("streams identical to their run's log", 0, total)
    live = 0
    for item in followed:
        if item.error or item.run_id not in runs:
            started.fail(f"run #{item.index} {item.run_id}: {item.error or 'not stored'}")
            if item.run_id not in runs:
                continue
        status, last_seq = runs[item.run_id]
        log = logs[item.run_id]
        if status not in {"succeeded", "failed", "cancelled", "timed_out"}:
            terminal.fail(f"{item.run_id}: {status}")
        if status != "succeeded":
            succeeded.fail(f"{item.run_id}: {status}")
        problem = log_problem(log, status, last_seq, steps_for(item.index))
        if problem:
            complete.fail(f"{item.run_id}: {problem}")
        if item.frames != [entry[:4] for entry in log]:
            streamed.fail(f"{item.run_id}: {len(item.frames)} frames, {len(log)} logged")
        if log and item.opened_at < log[-1][4]:
            live += 1
    figures = {
        "statuses": dict(Counter(status for status, _ in runs.values())),
        "events logged": sum(len(log) for log in logs.values()),
        "events streamed": sum(len(item.frames) for item in followed),
        "streams opened before their run ended": live,
    }
    return [started, terminal, succeeded, complete, streamed], figures


def log_problem(log: list[tuple], status: str, last_seq: int, steps: int) -> str:
    seqs = [entry[0] for entry in log]
    names = [entry[1] for entry in log]
    if seqs != list(range(1, len(seqs) + 1)):
        return f"seqs {seqs}"
    if last_seq != len(seqs):
        return f"last_event_seq {last_seq} for {len(seqs)} events"
    terminals = [name for name in names if name in TERMINAL_EVENTS]
    if terminals != [f"run.{status}"] or names[-1] != terminals[0]:
        return f"terminal events {terminals} for status {status}, last {names[-1:]}"
    if names.count("llm.completed") != steps:
        return f"{names.count('llm.completed')} llm.completed for {steps} scripted steps"
    return ""


def connection_rows(
    samples: list[Sample], middle: Sample, bounds: dict[str, int]
) -> tuple[list[dict[str, Any]], Check]:
    check = Check("connections within the pools' maximum (every sample)", 0, len(samples))
    rows = []
    for name, bound in bounds.items():
        peak = max(sample.connections[name] for sample in samples)
        rows.append(
            {
                "holder": name,
                "start": samples[0].connections[name],
                "middle": middle.connections[name],
                "end": samples[-1].connections[name],
                "peak": peak,
                "pools' max": bound,
            }
        )
        if peak > bound:
            check.fail(f"{name}: {peak} connections > {bound}")
    peak = max(sample.database_connections for sample in samples)
    total_bound = sum(bounds.values())
    rows.append(
        {
            "holder": f"pg_stat_activity ({DATABASE})",
            "start": samples[0].database_connections,
            "middle": middle.database_connections,
            "end": samples[-1].database_connections,
            "peak": peak,
            "pools' max": total_bound,
        }
    )
    if peak > total_bound:
        check.fail(f"the database: {peak} connections > {total_bound}")
    return rows, check


def rss_rows(samples: list[Sample], groups: Sequence[str]) -> tuple[list[dict[str, Any]], Check]:
    check = Check("RSS flat over the second half", 0, len(groups))
    half = samples[0].at + (samples[-1].at - samples[0].at) / 2
    second = [sample for sample in samples if sample.at >= half]
    span_minutes = (second[-1].at - second[0].at) / 60 if second else 0.0
    rows = []
    for name in groups:
        first = samples[0].rss_mb[name]
        per_minute = slope([(s.at / 60, s.rss_mb[name]) for s in second])
        growth = per_minute * span_minutes
        limit = max(RSS_GROWTH_FLOOR_MB, RSS_GROWTH_SHARE * first)
        rows.append(
            {
                "process group": name,
                "first MB": round(first, 1),
                "peak MB": round(max(s.rss_mb[name] for s in samples), 1),
                "last MB": round(samples[-1].rss_mb[name], 1),
                "2nd-half slope MB/min": round(per_minute, 3),
                "2nd-half growth MB": round(growth, 2),
                "limit MB": round(limit, 1),
                "CPU s": round(samples[-1].cpu_s[name] - samples[0].cpu_s[name], 1),
            }
        )
        if growth > limit:
            check.fail(f"{name}: +{growth:.1f} MB over the second half (limit {limit:.1f})")
    return rows, check


# --- Main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=500, help="runs to soak (default 500)")
    parser.add_argument("--streams", type=int, default=50, help="concurrent stream clients")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    with children() as started:
        env = base_env(
            Path(tempfile.mkdtemp(prefix="bench-soak-")),
            **fake_llm_env(start_fake_llm(started)),
            **PRODUCTION_SETTINGS,
            DATABASE_URL=DATABASE_URL,
            REDIS_URL=REDIS_URL,
            CONDUCTOR_PLUGIN_DIRS=str(plugin_dir()),
        )
        fresh_services()
        token = migrate_and_setup(env)
        base, servers = start_servers(started, env, args.workers)
        wait_healthy(base, list(servers.values()))
        workers = wait_for_workers(args.workers)
        warm_up = asyncio.run(drive(base, token, range(-2 * args.workers, 0), 4, Progress()))
        if any(item.error for item in warm_up):
            raise RuntimeError(f"warm-up failed: {[item.error for item in warm_up]}")

        groups = {name: child.process.pid for name, child in servers.items()}
        progress = Progress()
        sampler = Sampler(
            groups, DATABASE, probe_connection, lambda: progress.done, interval=args.interval
        )
        subscriptions = [redis_subscriptions()]
        sampler.start()
        soak_began = time.monotonic()
        followed = asyncio.run(drive(base, token, range(args.runs), args.streams, progress))
        soak_seconds = time.monotonic() - soak_began
        time.sleep(2 * args.interval)  # what the pools do once the load is over
        sampler.stop()
        subscriptions.append(redis_subscriptions())
        bounds = {name: POOL_MAX * len(group_members(pgid)) for name, pgid in groups.items()}
    return report(
        args, followed, sampler.samples, bounds, subscriptions, workers, soak_seconds, began
    )


def report(
    args: argparse.Namespace,
    followed: list[Followed],
    samples: list[Sample],
    bounds: dict[str, int],
    subscriptions: list[int],
    workers: list[str],
    soak_seconds: float,
    began: float,
) -> int:
    run_checks, figures = check_runs(followed)
    middle = next(s for s in samples if s.runs_done >= args.runs / 2)
    connections, connection_check = connection_rows(samples, middle, bounds)
    rss, rss_check = rss_rows(samples, list(bounds))
    subscription_check = Check("Redis subscriptions back to their number before the soak", 0, 1)
    if subscriptions[-1] > subscriptions[0]:
        subscription_check.fail(f"{subscriptions[0]} before, {subscriptions[-1]} after")
    checks = [*run_checks, connection_check, rss_check, subscription_check]
    summary = {
        "runs": args.runs,
        "stream clients": args.streams,
        "workers": ", ".join(workers),
        "soak wall time s": round(soak_seconds, 1),
        "runs/s": round(args.runs / soak_seconds, 2),
        **figures,
        "samples": len(samples),
        "Redis subscriptions before / after": " / ".join(map(str, subscriptions)),
        "total wall time s": round(time.monotonic() - began, 1),
    }
    print_table("soak", [{"figure": key, "value": value} for key, value in summary.items()])
    print_table("soak: database connections", connections)
    print_table("soak: resident memory", rss)
    print_table(
        "soak: checks",
        [
            {
                "check": check.name,
                "failed": f"{check.failures}/{check.total}",
                "ok": "yes" if check.ok else "NO",
                "examples": "; ".join(check.examples),
            }
            for check in checks
        ],
    )
    folder = RESULTS_DIR / "soak"
    folder.mkdir(parents=True, exist_ok=True)
    payload = {
        "machine": machine(),
        "summary": summary,
        "connections": connections,
        "rss": rss,
        "checks": [{**vars(check), "ok": check.ok} for check in checks],
        "samples": [
            {
                "s": round(sample.at - samples[0].at, 1),
                "runs_done": sample.runs_done,
                "rss_mb": {name: round(mb, 1) for name, mb in sample.rss_mb.items()},
                "connections": sample.database_connections,
            }
            for sample in samples
        ],
    }
    (folder / "soak.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
    verdict = all(check.ok for check in checks)
    print(f"\nsoak: {'PASS' if verdict else 'FAIL'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
