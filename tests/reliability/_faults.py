"""Real services to break on purpose, and Conductor's processes running against them.

Fault injection stops and restarts Redis and PostgreSQL, so it never touches the shared
ones: each test gets a redis-server of its own, and the session one PostgreSQL cluster
(``initdb`` in a temporary directory) holding a migrated template database that every
test clones. Conductor runs as it is deployed (docker-compose.yml): daphne, a prefork
Celery worker and, when a test needs the reaper, celery beat, each a child process.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.services import free_port, services_required
from tests.subprocesses import BASE_DIR, PRODUCTION_ENV, child_env, fake_llm_env, manage

T = TypeVar("T")

STAFF_USERNAME = "faults-staff"
STAFF_PASSWORD = "faults-password-not-a-secret"
STAFF_TOKEN = "f" * 40  # baked into the template database: every clone shares it
AGENT = "faulty"  # gpt-4o-mini (the fake LLM), with one harmless tool
AGENT_TOOL = "list_agents"
RUN_CWD = "/tmp"  # noqa: S108 - only a run's working directory; its tool never reads it
START_TIMEOUT = 60.0

# The children poll, beat and give up quickly, so that a fault shows within seconds.
FAST_CHILD_ENV = {
    "CONDUCTOR_RUN_HEARTBEAT_SECONDS": "0.5",
    "CONDUCTOR_RUN_STALE_AFTER_SECONDS": "3",
    "CONDUCTOR_RUN_REAPER_INTERVAL_SECONDS": "1",
    "CONDUCTOR_SSE_KEEPALIVE_SECONDS": "0.5",
    "CONDUCTOR_HEALTH_TIMEOUT": "1",
    "CONDUCTOR_DB_POOL_TIMEOUT": "2",
}

_SETUP_SCRIPT = f"""
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from apps.agents.models import Agent

user = get_user_model().objects.create_superuser({STAFF_USERNAME!r}, password={STAFF_PASSWORD!r})
Token.objects.create(user=user, key={STAFF_TOKEN!r})
Agent.objects.create(slug={AGENT!r}, name="Faulty", model="gpt-4o-mini", tools=[{AGENT_TOOL!r}])
"""


# --- Skipping without the binaries -------------------------------------------------


def require(missing: str | None) -> None:
    """Skips when a binary is missing, or fails under CONDUCTOR_REQUIRE_SERVICES=1."""
    if missing is None:
        return
    if services_required():
        pytest.fail(f"CONDUCTOR_REQUIRE_SERVICES=1 but {missing}", pytrace=False)
    pytest.skip(f"needs {missing.split(' ', 1)[0]}: {missing}")


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin directory (Debian layout), else pg_ctl's on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.insert(0, str(Path(on_path).parent))
    for directory in reversed(candidates):
        if all((Path(directory) / tool).exists() for tool in ("initdb", "pg_ctl")):
            return Path(directory)
    return None


def wait_until(
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.1
) -> T:
    """Polls ``probe`` until it returns something truthy; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


# --- Redis ------------------------------------------------------------------------


class RedisServer:
    """A redis-server of our own, on a port that stays the same across restarts."""

    def __init__(self, directory: Path) -> None:
        binary = redis_server_binary()
        assert binary is not None
        self._command = [
            binary,
            "--port",
            str(free_port()),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ]
        self.port = int(self._command[2])
        self._log = directory / "redis.log"
        self._process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        with self._log.open("a") as log:
            self._process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.answers, timeout=15, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        """Stops it the hard way, as a crash or an OOM kill would: no goodbye to clients."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def private_redis(directory: Path) -> Iterator[RedisServer]:
    require(None if redis_server_binary() else "redis-server is not installed (apt redis-server)")
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL ---------------------------------------------------------------------


class PostgresCluster:
    """A throw-away cluster: trust authentication, no fsync, a socket in its own directory.

    PostgreSQL refuses to run as root, so as root its tools run as the ``postgres`` user.
    """

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        self.port = free_port()
        # Not under pytest's tmp_path: its 0700 parents would lock the postgres user out.
        self.root = Path(tempfile.mkdtemp(prefix="conductor-faults-pg-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run("pg_ctl", "-D", self.data, "-l", self.root / "log", "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends every session at once, as a restart for an upgrade does."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def execute(
        self, sql: str, params: tuple[Any, ...] = (), *, database: str = "postgres"
    ) -> list:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _run(self, tool: str, *args: object, check: bool = True) -> None:
        command = [str(self._bin / tool), *map(str, args)]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=90, cwd=self.root, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


@dataclass
class PostgresServer:
    """The session's cluster and the migrated template each test's database is cloned from."""

    cluster: PostgresCluster
    template: str = "conductor_template"

    def clone(self) -> str:
        """A fresh database with Conductor's schema and fixtures; returns its URL."""
        name = f"faults_{uuid.uuid4().hex[:12]}"
        self.cluster.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.cluster.url(name)

    def events(self, database_url: str, run_id: str) -> list[tuple[int, str]]:
        """The run's event log as stored: (seq, event), in seq order."""
        rows = self.cluster.execute(
            "SELECT seq, event FROM runs_runevent WHERE run_id = %s ORDER BY seq",
            (uuid.UUID(run_id),),
            database=database_url.rsplit("/", 1)[1],
        )
        return [(seq, event) for seq, event in rows]


_POSTGRES = pytest.StashKey[PostgresServer]()


def session_postgres(config: pytest.Config, data_dir: Path) -> PostgresServer:
    """One cluster per test session, started by the first test that asks, removed at exit."""
    if _POSTGRES in config.stash:
        return config.stash[_POSTGRES]
    bin_dir = postgres_bin_dir()
    require(None if bin_dir else "postgresql is not installed (no initdb/pg_ctl)")
    assert bin_dir is not None
    cluster = PostgresCluster(bin_dir)
    config.add_cleanup(cluster.destroy)
    cluster.start()
    server = PostgresServer(cluster)
    cluster.execute(f'CREATE DATABASE "{server.template}"')
    env = child_env(data_dir, DATABASE_URL=cluster.url(server.template))
    for args in (("migrate", "--noinput"), ("shell", "-c", _SETUP_SCRIPT)):
        result = manage(*args, env=env, timeout=180)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    config.stash[_POSTGRES] = server
    return server


# --- Conductor's processes -----------------------------------------------------------


class Child:
    """One of Conductor's processes, its output in a file (no pipe to fill up)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log: Path,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self.name = name
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=BASE_DIR,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM (a worker's warm shutdown), then SIGKILL for it and whatever it left."""
        descendants = descendants_of(self.pid)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in descendants:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def descendants_of(pid: int) -> list[int]:
    """Every live process below ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found.extend(children)
        frontier.extend(children)
    return found


@dataclass
class Conductor:
    """Web, worker and beat on the private services; ``api`` is signed in as staff."""

    env: dict[str, str]
    base: str
    directory: Path
    children: dict[str, Child] = field(default_factory=dict)

    def api(self, timeout: float = 15) -> httpx.Client:
        headers = {"Authorization": f"Token {STAFF_TOKEN}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=timeout)

    def start(self, name: str, command: list[str], pass_fds: tuple[int, ...] = ()) -> Child:
        child = Child(name, command, self.env, self.directory / f"{name}.log", pass_fds)
        self.children[name] = child
        return child

    def outputs(self) -> str:
        return "\n".join(f"--- {n} ---\n{c.output[-8000:]}" for n, c in self.children.items())

    def wait_healthy(self, *, workers: bool) -> dict:
        def healthy() -> dict | None:
            for child in self.children.values():
                if child.process.poll() is not None:
                    code = child.process.returncode
                    pytest.fail(f"{child.name} exited with {code}:\n{self.outputs()}")
            try:
                response = httpx.get(f"{self.base}/health", timeout=5)
            except httpx.HTTPError:
                return None
            body = response.json()
            ready = response.status_code == 200 and body["checks"]["workers"]["ok"] == workers
            return body if ready else None

        return wait_until(healthy, timeout=START_TIMEOUT, what="a healthy Conductor", interval=0.3)

    def start_run(self, api: httpx.Client, text: str = "Work slowly, please.") -> str:
        response = api.post(f"/api/agents/{AGENT}/run/", json={"input": text, "cwd": RUN_CWD})
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def run_status(self, api: httpx.Client, run_id: str) -> dict:
        response = api.get(f"/api/runs/{run_id}/")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_finished(self, api: httpx.Client, run_id: str, *, timeout: float) -> dict:
        def finished() -> dict | None:
            run = self.run_status(api, run_id)
            return run if run["finished_at"] else None

        return wait_until(finished, timeout=timeout, what=f"run {run_id} to finish")


def web_command(listening: socket.socket) -> list[str]:
    """daphne on a socket bound here: no other process can take the port in between."""
    fd = str(listening.fileno())
    return [sys.executable, "-m", "daphne", "--fd", fd, "conductor_site.asgi:application"]


def worker_command(concurrency: int = 1) -> list[str]:
    return [
        *(sys.executable, "-m", "celery", "-A", "conductor_site", "worker"),
        "--loglevel=INFO",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--without-mingle",
        "--without-gossip",
        f"--hostname=faults-{uuid.uuid4().hex[:8]}@%h",
    ]


def beat_command() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "conductor_site", "beat", "--loglevel=INFO"]


@contextmanager
def conductor(
    *,
    directory: Path,
    services: Services,
    llm_base_url: str,
    worker: bool = True,
    beat: bool = False,
) -> Iterator[Conductor]:
    """Conductor in production mode (DEBUG off) on the given database and Redis."""
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    env = child_env(
        directory / "data",
        **{**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": "127.0.0.1"},
        **fake_llm_env(llm_base_url),
        **FAST_CHILD_ENV,
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=services.database_url,
        REDIS_URL=services.redis.url(),
    )
    app = Conductor(env=env, base=f"http://127.0.0.1:{port}", directory=directory)
    with ExitStack() as stack:
        stack.enter_context(listening)
        web = app.start("web", web_command(listening), pass_fds=(listening.fileno(),))
        stack.callback(web.stop)
        for name, command in (
            ("worker", worker_command() if worker else None),
            ("beat", beat_command() if beat else None),
        ):
            if command is not None:
                stack.callback(app.start(name, command).stop)
        yield app


# --- The fixture ----------------------------------------------------------------------


@dataclass
class Services:
    """This test's private Redis, and its own database on the session's PostgreSQL."""

    redis: RedisServer
    postgres: PostgresServer
    database_url: str

    def events(self, run_id: str) -> list[tuple[int, str]]:
        return self.postgres.events(self.database_url, run_id)

    def count(self, table: str) -> int:
        database = self.database_url.rsplit("/", 1)[1]
        ((count,),) = self.postgres.cluster.execute(
            f"SELECT count(*) FROM {table}",
            database=database,
        )
        return count


@pytest.fixture
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    """Test modules take it in as ``services = _faults.services``."""
    directory = tmp_path / "redis"
    directory.mkdir()
    with private_redis(directory) as redis:
        postgres = session_postgres(request.config, tmp_path / "setup")
        yield Services(redis=redis, postgres=postgres, database_url=postgres.clone())
