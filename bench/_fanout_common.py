"""What bench/fanout.py and bench/idle_streams.py share: a throw-away site, one daphne
process serving it, and cheap raw-socket WebSocket/SSE subscribers.

The subscribers are plain asyncio protocols rather than a client library: a thousand of
them live in the benchmark process, which shares two cores with daphne and Redis, so
each received frame must cost as little Python as possible. Receive times are taken
once per ``data_received`` chunk.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench._common import ROOT

BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CORE_LAYER = "channels_redis.core.RedisChannelLayer"
PUBSUB_LAYER = "apps.streams.layers.PubSubChannelLayer"  # channels-redis pub/sub + a wake-up
LAYERS = {"core": CORE_LAYER, "pubsub": PUBSUB_LAYER}

_children: list[subprocess.Popen] = []


def raise_open_files(wanted: int = 20000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < limit:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def layer_prefix(tag: str) -> str:
    return f"bench:{tag}:{os.getpid()}"


# --- The site -------------------------------------------------------------------


@dataclass
class Site:
    data_dir: Path
    token: str
    runs: list[str]
    env: dict[str, str]


def prepare_site(runs: int) -> Site:
    """A migrated SQLite database in a temporary directory with one user, its token and
    ``runs`` queued runs with empty logs; Django is set up in this process on it."""
    data_dir = Path(tempfile.mkdtemp(prefix="conductor-bench-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CONDUCTOR_", "PYTEST_"))
    }
    env.pop("DATABASE_URL", None)
    env.update(
        CONDUCTOR_DATA_DIR=str(data_dir),
        REDIS_URL=BENCH_REDIS_URL,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        DJANGO_SECRET_KEY="",
        CONDUCTOR_LOG_LEVEL="WARNING",
    )
    for key in ("DATABASE_URL", "REDIS_URL", "CONDUCTOR_DATA_DIR"):
        os.environ.pop(key, None)
    os.environ.update(CONDUCTOR_DATA_DIR=str(data_dir), REDIS_URL=BENCH_REDIS_URL)
    from bench._common import setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from apps.agents.models import Agent
    from apps.runs.models import Run

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    token = Token.objects.create(user=user).key
    agent = Agent.objects.create(slug="bench", name="Bench", model="gpt-4o-mini")
    run_ids = [
        str(
            Run.objects.create(
                agent=agent,
                input="bench",
                model="gpt-4o-mini",
                max_steps=5,
                timeout_seconds=3600,
                created_by=user,
            ).pk
        )
        for _ in range(runs)
    ]
    return Site(data_dir, token, run_ids, env)


# --- Child processes ------------------------------------------------------------


def _kill_children() -> None:
    for child in list(_children):
        stop(child)


atexit.register(_kill_children)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # runs atexit, so no daphne or publisher is left behind


signal.signal(signal.SIGTERM, _exit_on_sigterm)


def spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _children.append(process)
    return process


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process in _children:
        _children.remove(process)


@contextlib.contextmanager
def daphne(site: Site, layer: str, tag: str) -> Iterator[tuple[subprocess.Popen, int]]:
    """One daphne process serving the site with ``layer`` (a LAYERS key), on a free port."""
    port = free_port()
    env = dict(
        site.env,
        DJANGO_SETTINGS_MODULE="bench._fanout_settings",
        BENCH_CHANNEL_LAYER=LAYERS[layer],
        BENCH_LAYER_PREFIX=layer_prefix(tag),
    )
    command = [
        sys.executable,
        "-c",
        # Inherits this process's raised open-file limit; logs only warnings.
        "import sys; from daphne.cli import CommandLineInterface as C;C().run(sys.argv[1:])",
        "-b",
        "127.0.0.1",
        "-p",
        str(port),
        "-v",
        "0",
        "conductor_site.asgi:application",
    ]
    process = spawn(command, env)
    try:
        _wait_listening(process, port)
        yield process, port
    finally:
        stop(process)


def _wait_listening(process: subprocess.Popen, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{output}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise RuntimeError("daphne did not start listening in time")


def publisher(
    layer: str, prefix: str, group: str, run_id: str, count: int, rate: float
) -> subprocess.Popen:
    """bench/_fanout_publish.py in its own process (it waits for a line on stdin to start)."""
    env = dict(os.environ)
    command = [
        sys.executable,
        "-m",
        "bench._fanout_publish",
        LAYERS[layer],
        BENCH_REDIS_URL,
        prefix,
        group,
        run_id,
        str(count),
        str(rate),
    ]
    process = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _children.append(process)
    return process


# --- /proc ----------------------------------------------------------------------


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- Subscribers ----------------------------------------------------------------

ENVELOPE = re.compile(rb'"id":\s*(\d+).*?"t":\s*([0-9.]+)')


class Subscriber(asyncio.Protocol):
    """Counts the run envelopes it receives: seq -> publish-to-receive latency."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.latencies: dict[int, float] = {}
        self.buffer = b""
        self.request = b""
        self.handshake_done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)  # the subclass's opening request

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {self.buffer[:200]!r}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def record(self, payload: bytes, now: float) -> None:
        for match in ENVELOPE.finditer(payload):
            self.latencies.setdefault(int(match[1]), now - float(match[2]))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class WebSocketSubscriber(Subscriber):
    def __init__(self, host: str, path: str, token: str) -> None:
        super().__init__()
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Token {token}\r\n\r\n"
        ).encode()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data
        if not self.handshake_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.buffer = buffer
                self.close()
                return
            self.handshake_done = True
            buffer = buffer[end + 4 :]
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    break
                (length,) = struct.unpack_from(">H", buffer, 2)
                start = 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                (length,) = struct.unpack_from(">Q", buffer, 2)
                start = 10
            if len(buffer) < start + length:
                break
            payload = buffer[start : start + length]
            buffer = buffer[start + length :]
            if opcode == 1:
                if not self.ready.done():
                    self.ready.set_result(None)
                self.record(payload, now)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                self.close()
        self.buffer = buffer
        if not self.ready.done() and self.handshake_done:
            # The run's log is empty: nothing comes until the first event.
            self.ready.set_result(None)

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        assert len(payload) < 126
        if self.transport is not None:
            self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


class SSESubscriber(Subscriber):
    def __init__(self, host: str, path: str, token: str) -> None:
        super().__init__()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n"
            f"Authorization: Token {token}\r\n\r\n"
        ).encode()

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buffer = self.buffer + data
        if not self.ready.done():
            if b"retry:" not in buffer:
                self.buffer = buffer
                if buffer.startswith(b"HTTP/1.1") and not buffer.startswith(b"HTTP/1.1 200"):
                    self.close()
                return
            self.ready.set_result(None)
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self.buffer = buffer
            return
        self.record(buffer[:end], now)
        self.buffer = buffer[end + 2 :]


async def open_subscribers(
    kind: str, port: int, paths: list[str], token: str, batch: int = 100
) -> list[Subscriber]:
    """Opens one subscriber per path, ``batch`` at a time, each ready (accepted/streaming)."""
    loop = asyncio.get_running_loop()
    host = f"127.0.0.1:{port}"
    factory = WebSocketSubscriber if kind == "ws" else SSESubscriber
    opened: list[Subscriber] = []

    async def one(path: str) -> Subscriber:
        # A handshake the loaded server drops is retried (twice) before the run fails.
        for attempt in range(3):
            _, protocol = await loop.create_connection(
                lambda: factory(host, path, token), "127.0.0.1", port
            )
            opened.append(protocol)
            try:
                await asyncio.wait_for(protocol.ready, 60)
            except ConnectionError:
                opened.remove(protocol)
                if attempt == 2:
                    raise
                await asyncio.sleep(0.5)
            else:
                return protocol
        raise AssertionError("unreachable")

    try:
        for start in range(0, len(paths), batch):
            await asyncio.gather(*(one(path) for path in paths[start : start + batch]))
    except BaseException:
        close_all(opened)
        raise
    return opened


def close_all(subscribers: list[Subscriber]) -> None:
    for subscriber in subscribers:
        subscriber.close()


def path_for(kind: str, run_id: str) -> str:
    return f"/ws/runs/{run_id}/" if kind == "ws" else f"/api/runs/{run_id}/events/"
