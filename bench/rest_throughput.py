"""REST list throughput under 16 concurrent connections, as a ratio to a plain async view.

``GET /api/screenplays/?page_size=50`` and ``GET /api/runs/?page_size=50`` over 5,000 rows
each, against a real server process (daphne, and uvicorn when installed) serving
``bench/_rest_app.py`` (the product's ASGI app plus bare baseline views) on the
PostgreSQL database ``bench_c``. The baseline is a plain async Django view returning the
same rows with ``JsonResponse`` in the same server process, measured in interleaved phases.
The load generator is asyncio (aiohttp, else httpx) in this process.

Also counts the queries of one request in-process for page_size 10 and 50: they must be equal.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from bench._common import (
    PRODUCTION_SETTINGS,
    ROOT,
    Result,
    exit_code,
    parse_args,
    percentile,
    setup_django,
)

DATABASE_URL = os.environ.get(
    "BENCH_REST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_c"
)
ROWS = 5000
CONCURRENCY = 16
PAGE_SIZE = 50
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 30.0
ENDPOINTS = {
    "screenplays": ("/api/screenplays/", "/bench-bare/screenplays/"),
    "runs": ("/api/runs/", "/bench-bare/runs/"),
}


# --- The database ----------------------------------------------------------------------


def ensure_database() -> None:
    """Creates bench_c if missing (trust auth), then migrates it."""
    psql = shutil.which("psql")
    name = DATABASE_URL.rsplit("/", 1)[-1]
    if psql is not None:
        exists = subprocess.run(
            [psql, "-h", "127.0.0.1", "-U", "postgres", "-tAc",
             f"select 1 from pg_database where datname = '{name}'"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if exists.stdout.strip() != "1":
            subprocess.run(
                [psql, "-h", "127.0.0.1", "-U", "postgres", "-c", f"create database {name}"],
                capture_output=True, text=True, timeout=30, check=True,
            )  # fmt: skip
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def seed() -> str:
    """5,000 screenplays and 5,000 runs (bulk-created from the project's factories); a token."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from apps.runs.models import Run
    from apps.screenplays.models import Screenplay
    from tests.factories import AgentFactory
    from tests.factories.runs import RunFactory
    from tests.factories.screenplays import ScreenplayFactory

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_superuser("bench", "bench@example.com", None)
    token, _ = Token.objects.get_or_create(user=user)

    missing = ROWS - Screenplay.objects.count()
    if missing > 0:
        start = Screenplay.all_objects.count()
        rows = ScreenplayFactory.build_batch(missing)
        for offset, row in enumerate(rows):
            row.name = f"Bench screenplay {start + offset}"
        Screenplay.objects.bulk_create(rows, batch_size=500)
    missing = ROWS - Run.objects.count()
    if missing > 0:
        agent = AgentFactory(slug="bench_agent")
        rows = RunFactory.build_batch(missing, agent=agent, created_by=user, result="done")
        Run.objects.bulk_create(rows, batch_size=500)
    return token.key


def query_counts(token: str) -> dict[str, dict[int, int]]:
    """Queries per request, in-process, for page_size 10 and 50."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    counts: dict[str, dict[int, int]] = {}
    for name, (ours, _) in ENDPOINTS.items():
        counts[name] = {}
        for size in (10, PAGE_SIZE):
            client.get(f"{ours}?page_size={size}")  # warm caches (content types, ...)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"{ours}?page_size={size}")
            assert response.status_code == 200, response.content[:500]
            assert len(response.json()["results"]) == size, name
            counts[name][size] = len(captured.captured_queries)
    return counts


# --- The server process ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_command(server: str, port: int) -> list[str]:
    app = "bench._rest_app:application"
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]
    return [
        sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def server_env(data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        DATABASE_URL=DATABASE_URL,
        DJANGO_SETTINGS_MODULE="conductor_site.settings",
        **PRODUCTION_SETTINGS,
        DJANGO_LOG_LEVEL="WARNING",
        CONDUCTOR_DATA_DIR=str(data_dir),
        LITELLM_LOCAL_MODEL_COST_MAP="True",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    return env


def server_available(server: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(server) is not None


RUNNING: list[subprocess.Popen] = []


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (bench/run_all's timeout): kill the servers at once, then exit."""
    for process in RUNNING:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    sys.exit(128 + signum)


@contextmanager
def running_server(server: str, workdir: Path) -> Iterator[str]:
    """The server on a free port, answering; stopped (SIGINT, then SIGKILL) on the way out."""
    port = free_port()
    log_path = workdir / f"{server}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            server_command(server, port),
            cwd=ROOT,
            env=server_env(workdir),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of the bench reaches it only through us
        )
    RUNNING.append(process)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, base, log_path)
        yield base
    finally:
        _stop(process)
        RUNNING.remove(process)


def _wait_until_up(process: subprocess.Popen, base: str, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/bench-bare/runs/?page_size=1", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"server not up after {START_TIMEOUT}s:\n{log_path.read_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=STOP_TIMEOUT)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


# --- The load generator ----------------------------------------------------------------


class Phase:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.elapsed = 0.0

    def merge(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def _load(url: str, headers: dict[str, str], seconds: float) -> Phase:
    """CONCURRENCY workers, each sending requests back to back on its own connection."""
    phase = Phase()
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp comes with litellm
        aiohttp = None  # type: ignore[assignment]

    async def worker_aiohttp(session: Any, deadline: float) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as response:
                await response.read()
                ok = response.status == 200
            _record(phase, ok, time.perf_counter() - started)

    async def worker_httpx(client: Any, deadline: float) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = await client.get(url, headers=headers)
            _record(phase, response.status_code == 200, time.perf_counter() - started)

    started = time.perf_counter()
    deadline = started + seconds
    if aiohttp is not None:
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.gather(*(worker_aiohttp(session, deadline) for _ in range(CONCURRENCY)))
    else:  # pragma: no cover
        import httpx

        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT) as client:
            await asyncio.gather(*(worker_httpx(client, deadline) for _ in range(CONCURRENCY)))
    phase.elapsed = time.perf_counter() - started
    return phase


def _record(phase: Phase, ok: bool, seconds: float) -> None:
    if ok:
        phase.latencies.append(seconds)
    else:
        phase.errors += 1


def measure(base: str, token: str, seconds: float, rounds: int) -> dict[str, dict[str, Phase]]:
    """Per endpoint, ours and baseline in alternating phases of ``seconds``."""
    auth = {"Authorization": f"Token {token}"}
    query = f"?page_size={PAGE_SIZE}"
    results: dict[str, dict[str, Phase]] = {}
    for name, (ours, bare) in ENDPOINTS.items():
        asyncio.run(_load(base + ours + query, auth, 1.5))  # warm-up
        asyncio.run(_load(base + bare + query, {}, 1.5))
        totals = {"ours": Phase(), "baseline": Phase()}
        for _ in range(rounds):
            totals["ours"].merge(asyncio.run(_load(base + ours + query, auth, seconds)))
            totals["baseline"].merge(asyncio.run(_load(base + bare + query, {}, seconds)))
        results[name] = totals
    return results


# --- The benchmark ---------------------------------------------------------------------


def main() -> int:
    args = parse_args(__doc__ or "")
    # bench/run_all's timeout sends SIGTERM: exit through the finally blocks that stop
    # the child processes, not past them.
    signal.signal(signal.SIGTERM, _terminated)
    seconds, rounds = (3.0, 2) if args.quick else (8.0, 3)
    result = Result("rest_throughput", quick=args.quick)

    os.environ["DATABASE_URL"] = DATABASE_URL
    setup_django()
    ensure_database()
    token = seed()
    counts = query_counts(token)
    from django.db import connections

    connections.close_all()

    for name, by_size in counts.items():
        result.add_row(
            server="in-process",
            route=f"{ENDPOINTS[name][0]} queries/request",
            page_size_10=by_size[10],
            page_size_50=by_size[PAGE_SIZE],
        )
        result.target(
            f"{name}: queries at page_size 50 minus page_size 10",
            by_size[PAGE_SIZE] - by_size[10],
            "==",
            0,
        )

    servers = [server for server in ("daphne", "uvicorn") if server_available(server)]
    if "uvicorn" not in servers:
        result.notes.append("uvicorn is not installed: daphne only")
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as tmp:
        for server in servers:
            with running_server(server, Path(tmp)) as base:
                measured = measure(base, token, seconds, rounds)
            for name, phases in measured.items():
                ours, baseline = phases["ours"], phases["baseline"]
                for side, phase in phases.items():
                    result.add_row(
                        server=server,
                        route=(ENDPOINTS[name][0] if side == "ours" else ENDPOINTS[name][1])
                        + f"?page_size={PAGE_SIZE}",
                        side=side,
                        requests=len(phase.latencies),
                        errors=phase.errors,
                        rps=round(phase.rps, 1),
                        p50_ms=round(percentile(phase.latencies, 50) * 1000, 1),
                        p99_ms=round(percentile(phase.latencies, 99) * 1000, 1),
                    )
                ratio = round(ours.rps / baseline.rps, 3) if baseline.rps else 0.0
                result.target(f"{server} {name}: rps ours/baseline", ratio, ">=", 0.5)
                errors = ours.errors + baseline.errors
                result.target(f"{server} {name}: failed requests", errors, "==", 0)

    result.notes.append(
        f"{ROWS} rows per table on PostgreSQL ({DATABASE_URL.rsplit('/', 1)[-1]}), "
        f"{CONCURRENCY} connections, {rounds} x {seconds:g}s interleaved phases per side; "
        "server: DJANGO_DEBUG=false, one process; load generator in the bench process "
        "(shares the 2 cores with the server)."
    )
    result.notes.append(
        "Baseline: a bare async view (no auth, no DRF, no count query) doing "
        ".values() of the same fields and JsonResponse; ours adds token auth (1 query), "
        "pagination count (1 query), DRF's view, filter backends and rendering, and the "
        "serializers' formatting (apps.core.serializers.ListRows for these lists)."
    )
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
