"""Running ``manage.py`` in a child process with a controlled environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.services import free_port

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = str(BASE_DIR / "manage.py")

# A strong, throw-away key for production-mode children; never used to sign anything real.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-" + "k3Y9#pQ2!vX8$wL5^mN7&bR4*tZ6(hJ1)dF0_sG" * 2,
    "DJANGO_ALLOWED_HOSTS": "conductor.example.com",
}


def child_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CONDUCTOR_", "PYTEST_"))
        or key == "CONDUCTOR_REQUIRE_SERVICES"
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["CONDUCTOR_DATA_DIR"] = str(data_dir)
    # An empty value keeps a developer's .env from filling the variable in.
    env.setdefault("DJANGO_SECRET_KEY", "")
    env.update(overrides)
    return env


def fake_llm_env(base_url: str) -> dict[str, str]:
    """A child's LLM settings: OpenAI-compatible calls go to the scripted fake server."""
    return {
        "OPENAI_BASE_URL": base_url,
        "OPENAI_API_BASE": base_url,
        "OPENAI_API_KEY": "sk-fake-key",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "CONDUCTOR_LLM_NUM_RETRIES": "0",
    }


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_manage(
    *args: str, env: dict[str, str], as_background_job: bool = False
) -> subprocess.Popen:
    """``as_background_job``: start with SIGINT ignored, as a shell's ``cmd &`` does.

    That is done by a shell (``trap '' INT; exec ...``), not with ``preexec_fn``,
    which is unsafe in a process that has threads, as the test process does.
    """
    command = [sys.executable, MANAGE, *args]
    if as_background_job:
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(
        command,
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


START_TIMEOUT = 60.0
STOP_TIMEOUT = 25.0


class Served:
    def __init__(self, process: subprocess.Popen, port: int) -> None:
        self.process = process
        self.base = f"http://127.0.0.1:{port}"
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_health(self, *, workers: bool) -> dict:
        deadline = time.monotonic() + START_TIMEOUT
        body: dict = {}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output}")
            try:
                response = httpx.get(f"{self.base}/health", timeout=5)
                body = response.json()
                if response.status_code == 200 and (not workers or body["checks"]["workers"]["ok"]):
                    return body
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"/health never became healthy: {body}\n{self.output}")

    def shut_down(self) -> None:
        """Stops the server if it still runs: SIGINT, then a kill if that fails."""
        if self.process.poll() is not None:
            return
        try:
            self.stop(signal.SIGINT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"serve ignored {signal.Signals(signum).name}:\n{self.output}")


@contextmanager
def serving(env: dict[str, str], *serve_args: str) -> Iterator[Served]:
    """``manage.py serve`` on a free port, healthy with its worker, shut down afterwards."""
    port = free_port()
    served = Served(spawn_manage("serve", "--port", str(port), *serve_args, env=env), port)
    try:
        served.wait_for_health(workers=True)
        yield served
    finally:
        served.shut_down()
