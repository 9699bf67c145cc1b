"""Start latency: ``POST /api/runs/`` until the ``run.started`` event arrives over SSE.

Measured from the client: the POST is sent, then ``/api/runs/<id>/events/`` is read until
``event: run.started`` (replayed from the log if it came before the stream opened). Runs
are sequential; each is read to its end (one instant LLM answer) before the next starts.

- embedded default: ``manage.py serve`` (SQLite, in-memory layer, worker thread, memory://).
- Redis: daphne plus a separate Celery worker process (PostgreSQL ``bench_b``, Redis db 15),
  the worker started as bench._runs_common.WORKER_ARGS (prefork, concurrency 1,
  prefetch multiplier 1, -O fair, no mingle/gossip).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._common import Result, exit_code, parse_args, summary_ms
from bench._runs_common import (
    AGENT_SLUG,
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    PYTHON,
    WORKER_ARGS,
    Child,
    base_env,
    children,
    create_bench_database,
    fake_llm_env,
    flush_bench_redis,
    free_port,
    migrate_and_setup,
    plugin_dir,
    spawn,
    spawn_daphne,
    start_fake_llm,
)

TARGET_P50_MS = 50.0
RUN_TIMEOUT = 30.0
POST_SECONDS: list[float] = []  # the POST alone, of the runs measured (a breakdown)


def wait_healthy(base: str, watched: list[Child], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    body: object = None
    while time.monotonic() < deadline:
        for child in watched:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.name} exited:\n{child.tail()}")
        try:
            response = httpx.get(f"{base}/health", timeout=5)
            body = response.json()
            if response.status_code == 200 and body["checks"]["workers"]["ok"]:
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    tails = "\n".join(f"--- {c.name} ---\n{c.tail()}" for c in watched)
    raise RuntimeError(f"{base}/health never became healthy: {body}\n{tails}")


def one_run(client: httpx.Client) -> float:
    """Seconds from sending the POST to reading ``event: run.started``; reads the run to its end."""
    started = time.perf_counter()
    response = client.post(
        "/api/runs/", json={"agent": AGENT_SLUG, "input": "Say done.", "cwd": "/srv/bench"}
    )
    if response.status_code != 202:
        raise RuntimeError(f"POST /api/runs/ answered {response.status_code}: {response.text}")
    run_id = response.json()["id"]
    POST_SECONDS.append(time.perf_counter() - started)
    latency = None
    with client.stream("GET", f"/api/runs/{run_id}/events/", timeout=RUN_TIMEOUT) as stream:
        for line in stream.iter_lines():
            if latency is None and line == "event: run.started":
                latency = time.perf_counter() - started
            if line.startswith("event: run.") and line not in (
                "event: run.started",
                "event: run.queued",
            ):
                if line != "event: run.succeeded":
                    raise RuntimeError(f"run {run_id} ended with {line}")
                break
    if latency is None:
        raise RuntimeError(f"run {run_id}: no run.started event")
    return latency


def measure(base: str, token: str, runs: int) -> list[float]:
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=RUN_TIMEOUT) as client:
        for _ in range(5):  # warm-up
            one_run(client)
        POST_SECONDS.clear()
        return [one_run(client) for _ in range(runs)]


def embedded(
    started: list[Child], llm_env: dict[str, str], data_dir: Path, runs: int
) -> list[float]:
    env = base_env(data_dir / "embedded", **llm_env, CONDUCTOR_PLUGIN_DIRS=str(plugin_dir()))
    token = migrate_and_setup(env)
    port = free_port()
    serve = spawn(
        started, "serve", [PYTHON, "manage.py", "serve", "--port", str(port), "--no-migrate"], env
    )
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, [serve])
    try:
        return measure(base, token, runs)
    finally:
        serve.stop()


def with_redis(
    started: list[Child], llm_env: dict[str, str], data_dir: Path, runs: int
) -> list[float]:
    create_bench_database()
    flush_bench_redis()
    env = base_env(
        data_dir / "redis",
        **llm_env,
        DATABASE_URL=BENCH_DATABASE_URL,
        REDIS_URL=BENCH_REDIS_URL,
        CONDUCTOR_PLUGIN_DIRS=str(plugin_dir()),
    )
    token = migrate_and_setup(env)
    web, base = spawn_daphne(started, env)
    worker = spawn(started, "celery-worker", [PYTHON, *WORKER_ARGS], env)
    wait_healthy(base, [web, worker])
    try:
        return measure(base, token, runs)
    finally:
        web.stop()
        worker.stop()


def main() -> int:
    args = parse_args(__doc__ or "")
    runs = 50 if args.quick else 200
    result = Result("start_latency", quick=args.quick)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-start-"))
    samples: dict[str, list[float]] = {}
    posts: dict[str, list[float]] = {}
    with children() as started:
        llm_env = fake_llm_env(start_fake_llm(started))
        samples["embedded (manage.py serve)"] = embedded(started, llm_env, data_dir, runs)
        posts["embedded (manage.py serve)"] = list(POST_SECONDS)
        samples["Redis + Celery worker"] = with_redis(started, llm_env, data_dir, runs)
        posts["Redis + Celery worker"] = list(POST_SECONDS)
    for label, seconds in samples.items():
        result.add_row(setup=label, measure="POST -> run.started", **summary_ms(seconds))
        result.add_row(setup=label, measure="of which the POST (202)", **summary_ms(posts[label]))
    redis_p50 = summary_ms(samples["Redis + Celery worker"])["p50_ms"]
    result.target("Redis: POST -> run.started p50", redis_p50, "<", TARGET_P50_MS, " ms")
    result.notes.append(
        f"{runs} sequential runs per setup after 5 warm-up runs; client-side time from sending"
        " POST /api/runs/ to reading 'event: run.started' on /api/runs/<id>/events/."
    )
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
