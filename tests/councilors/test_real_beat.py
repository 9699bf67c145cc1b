"""A 1-second councilor driven by a real celery beat and a real worker, as child processes.

They share the test's PostgreSQL database and talk through Redis. Their Redis database
is their own (BEAT_REDIS_DB), so that they neither take nor leave messages on the one
other test runs use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
from django.db import connection

from apps.conversations.models import Message
from apps.councilors import services
from apps.councilors.models import CouncilorTick
from apps.runs.models import RunStatus
from tests.councilors.helpers import promote
from tests.fakes import llm_server as llm
from tests.services import redis_url
from tests.subprocesses import BASE_DIR, child_env, fake_llm_env

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

BEAT_REDIS_DB = 13
STOP_TIMEOUT = 20.0


def shared_database_url() -> str:
    """The test database (test_<name>), which the children must use too."""
    config = connection.settings_dict
    user = quote(config.get("USER") or "")
    password = f":{quote(config['PASSWORD'])}" if config.get("PASSWORD") else ""
    host = config.get("HOST") or "127.0.0.1"
    port = config.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{config['NAME']}"


def own_redis_url() -> str:
    parts = urlsplit(redis_url())
    return urlunsplit(parts._replace(path=f"/{BEAT_REDIS_DB}"))


def clear_queues(url: str) -> None:
    """What an earlier, interrupted run of this test may have left in the queue."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.delete("celery", "unacked", "unacked_index")
    finally:
        client.close()


class Child:
    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "conductor_site", *args],
            env=env,
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: stopped with every child it has
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    @property
    def output(self) -> str:
        return f"--- {self.name} ---\n" + "\n".join(self.lines[-80:])


@pytest.fixture
def beat_and_worker(fake_llm, tmp_path: Path) -> Iterator[list[Child]]:
    if connection.vendor != "postgresql":
        pytest.skip("beat and worker share the test database: set DATABASE_URL to PostgreSQL")
    url = own_redis_url()
    clear_queues(url)
    env = child_env(
        tmp_path,
        **fake_llm_env(fake_llm.base_url),
        DATABASE_URL=shared_database_url(),
        REDIS_URL=url,
    )
    children: list[Child] = []
    try:
        worker_args = ["worker", "--pool", "solo", "--loglevel", "INFO", "--without-mingle"]
        children.append(Child("worker", [*worker_args, "--without-gossip"], env))
        children.append(Child("beat", ["beat", "--loglevel", "INFO", "--max-interval", "1"], env))
        yield children
    finally:
        for child in children:
            child.stop()
        clear_queues(url)


def wait_for(predicate, children: list[Child], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        exited = [child for child in children if child.process.poll() is not None]
        if exited:
            pytest.fail("a child exited:\n" + "\n".join(child.output for child in children))
        time.sleep(0.5)
    pytest.fail("no two runs in time:\n" + "\n".join(child.output for child in children))


@pytest.mark.timeout(240)
def test_beat_starts_a_one_second_councilor_again_and_again(
    editor, native_agent, fake_llm, beat_and_worker
):
    fake_llm.script(*[llm.text(f"Check {n}: all fine.\nSEVERITY: info") for n in range(30)])
    councilor = promote(editor, native_agent, schedule_value="1s")

    def two_runs_done() -> bool:
        ticks = CouncilorTick.objects.filter(councilor=councilor, run__status=RunStatus.SUCCEEDED)
        return ticks.count() >= 2

    wait_for(two_runs_done, beat_and_worker)
    councilor = services.councilor_pause(councilor=councilor, actor=editor)

    started = CouncilorTick.objects.filter(councilor=councilor, outcome="started")
    assert {tick.trigger for tick in started} == {"schedule"}
    finished = [tick.run for tick in started if tick.run.status == RunStatus.SUCCEEDED]
    assert len(finished) >= 2
    assert all(run.severity == "info" for run in finished)
    bot_answers = Message.objects.filter(
        conversation=councilor.instance.conversation, type="bot", run__in=finished
    )
    assert bot_answers.count() == len(finished)
    instance = councilor.instance
    instance.refresh_from_db()
    assert instance.success_count >= 2
