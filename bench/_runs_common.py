"""Helpers of the run benchmarks (orchestration, start_latency): the instant fake LLM,
the no-op tool plugin, the Celery worker command and clean subprocess handling.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench._common import ROOT

PYTHON = sys.executable
# Redis db 0 is shared with other people's tests: ours is db 15.
BENCH_REDIS_URL = "redis://127.0.0.1:6379/15"
BENCH_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/bench_b"
NATIVE_MODEL = "gpt-4o-mini"  # litellm knows it: native tool calling, and a price
NOOP_TOOL = "bench_noop"
AGENT_SLUG = "bench-agent"
BENCH_USER = "bench"

# The worker as tuned for start latency (see /tmp/notes/bench_runs.md): one prefetched
# message per process, fair scheduling, no mingle/gossip chatter at start-up.
WORKER_ARGS = [
    "-m",
    "celery",
    "-A",
    "conductor_site",
    "worker",
    "--loglevel",
    "WARNING",
    "--pool",
    "prefork",
    "--concurrency",
    "1",
    "--prefetch-multiplier",
    "1",
    "-O",
    "fair",
    "--without-mingle",
    "--without-gossip",
]

NOOP_PLUGIN = f'''
from apps.runtime.sdk import BaseTool, ToolCategory, ToolDefinition, ToolResult


class BenchNoop(BaseTool):
    definition = ToolDefinition(
        name="{NOOP_TOOL}",
        description="Does nothing (benchmark).",
        parameters={{"type": "object", "properties": {{}}}},
        category=ToolCategory.SYSTEM,
    )

    async def run(self, arguments, context):
        return ToolResult(success=True, result="ok")


TOOLS = [BenchNoop]
'''


def steps_marker(steps: int) -> str:
    """Put in a run's input: the fake LLM answers ``steps - 1`` tool calls, then a text."""
    return f"[bench steps={steps}]"


def plugin_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bench-plugins-"))
    (folder / "bench_noop_plugin.py").write_text(NOOP_PLUGIN)
    return folder


def register_noop_tool() -> None:
    """The same no-op tool, registered in this process (unless the plugin dir did)."""
    from apps.runtime.tools import registry

    if NOOP_TOOL in registry.names():
        return
    namespace: dict[str, object] = {}
    exec(compile(NOOP_PLUGIN, "bench_noop_plugin", "exec"), namespace)  # noqa: S102
    registry.register(namespace["BenchNoop"], source="bench")  # type: ignore[arg-type]


def fake_llm_env(base_url: str) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_BASE": base_url,
        "OPENAI_API_KEY": "sk-fake-key",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "CONDUCTOR_LLM_NUM_RETRIES": "0",
    }


def base_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a child: ours, minus Django/Conductor settings, plus ``overrides``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CONDUCTOR_", "PYTEST_"))
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    env["CONDUCTOR_DATA_DIR"] = str(data_dir)
    env["DJANGO_SECRET_KEY"] = ""
    env["PYTHONPATH"] = str(ROOT)
    env.update(overrides)
    return env


class Child:
    """A subprocess whose output is kept (last lines shown on failure), in its own group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.lines[-n:])

    def wait_for_line(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if line.startswith(prefix):
                    return line
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} never printed {prefix!r}:\n{self.tail()}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to its process group, then SIGKILL: nothing is left running."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        with suppress(ProcessLookupError, PermissionError):  # the child's own children too
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=5)


@contextmanager
def children() -> Iterator[list[Child]]:
    """A list to add children to; every one is stopped on the way out, failure or not."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()


def spawn(started: list[Child], name: str, args: list[str], env: dict[str, str]) -> Child:
    child = Child(name, args, env)
    started.append(child)
    return child


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn_daphne(started: list[Child], env: dict[str, str]) -> tuple[Child, str]:
    """daphne serving Conductor on a free port: the child and its base URL."""
    port = free_port()
    args = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
    web = spawn(started, "daphne", [*args, "conductor_site.asgi:application"], env)
    return web, f"http://127.0.0.1:{port}"


def start_fake_llm(started: list[Child]) -> str:
    """The instant fake LLM in its own process (no GIL shared with what is measured)."""
    child = spawn(started, "fake-llm", [PYTHON, "-m", "bench._runs_fake"], base_env(ROOT / "var"))
    line = child.wait_for_line("FAKE_LLM ", timeout=30)
    return line.split()[1]


def create_bench_database() -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-c", "create database bench_b"],
        capture_output=True,
        timeout=30,
        check=False,
    )


def flush_bench_redis() -> None:
    import redis

    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()


SETUP_CODE = f"""
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from apps.agents.models import Agent
user, _ = get_user_model().objects.get_or_create(username={BENCH_USER!r})
token, _ = Token.objects.get_or_create(user=user)
Agent.objects.update_or_create(
    slug={AGENT_SLUG!r},
    defaults=dict(name="Bench agent", model={NATIVE_MODEL!r}, tools=[{NOOP_TOOL!r}], max_steps=50),
)
print("TOKEN", token.key)
"""


def migrate_and_setup(env: dict[str, str], timeout: float = 180) -> str:
    """Migrates the child's database, creates the bench user and agent; the user's token."""
    for args in (["migrate", "--no-input", "-v", "0"], ["shell", "-c", SETUP_CODE]):
        out = subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{out.stdout}\n{out.stderr}")
    return next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("TOKEN"))
