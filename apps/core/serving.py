"""Running web, worker and beat together, for ``manage.py serve``.

Embedded (no ``REDIS_URL``): the Celery worker and beat run as threads inside
the daphne process, because the in-memory channel layer and the ``memory://``
broker only connect code in one process.

With ``REDIS_URL``: the three run as child processes talking through Redis,
exactly as they would when deployed separately.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

WORKER_STOP_TIMEOUT = 10.0
CHILD_STOP_TIMEOUT = 15.0
WEBSOCKET_TRANSPORT_FACTOR = 4


@dataclass
class ServeOptions:
    host: str
    port: int
    concurrency: int
    worker: bool = True
    beat: bool = True


# --- Embedded: one process, threads ---------------------------------------


class EmbeddedCelery:
    """A Celery worker and beat running on threads of the current process."""

    def __init__(self, *, concurrency: int, worker: bool, beat: bool) -> None:
        from celery.beat import EmbeddedService
        from celery.worker import WorkController

        from conductor_site.celery import app

        self._worker = (
            WorkController(
                app=app,
                pool="threads",
                concurrency=concurrency,
                hostname=f"embedded@{_hostname()}",
                without_mingle=True,
                without_gossip=True,
            )
            if worker
            else None
        )
        # EmbeddedService ignores beat_scheduler unless it is passed explicitly.
        self._beat: Any = (
            EmbeddedService(app, thread=True, scheduler_cls=app.conf.beat_scheduler)
            if beat
            else None
        )
        self._worker_thread: threading.Thread | None = None

    def start(self) -> None:
        if self._worker is not None:
            self._worker_thread = threading.Thread(
                target=self._worker.start, name="celery-worker", daemon=True
            )
            self._worker_thread.start()
        if self._beat is not None:
            self._beat.start()

    def stop(self) -> None:
        if self._beat is not None:
            self._beat.stop()
        if self._worker is not None:
            self._worker.stop(in_sighandler=False)
        if self._worker_thread is not None:
            self._worker_thread.join(WORKER_STOP_TIMEOUT)


def _hostname() -> str:
    import socket

    return socket.gethostname()


def websocket_transport_limit() -> int:
    """How much of one WebSocket message daphne reads before dropping the connection.

    Consumers close a socket whose message exceeds ``CONDUCTOR_WS_MAX_MESSAGE_BYTES`` with
    4009 (apps.core.consumers). daphne's own limit drops the TCP connection without a close
    frame (the client sees 1006), so it sits above theirs: it only stops a client from
    making the server buffer a huge message.
    """
    return WEBSOCKET_TRANSPORT_FACTOR * settings.CONDUCTOR_WS_MAX_MESSAGE_BYTES


def serve_embedded(options: ServeOptions) -> int:
    from channels.routing import get_default_application
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    # A shell starts background jobs with SIGINT ignored, and Twisted only
    # handles SIGINT when it has its default handler: restore it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    celery = EmbeddedCelery(
        concurrency=options.concurrency, worker=options.worker, beat=options.beat
    )
    celery.start()
    try:
        Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(host=options.host, port=options.port),
            signal_handlers=True,
            websocket_max_message_size=websocket_transport_limit(),
        ).run()
    finally:
        celery.stop()
    return 0


# --- With Redis: child processes ------------------------------------------


@dataclass
class ProcessGroup:
    """Child processes that live and die together."""

    commands: Mapping[str, Sequence[str]]
    children: dict[str, subprocess.Popen] = field(default_factory=dict)
    stopping: bool = False

    def start(self) -> None:
        for name, command in self.commands.items():
            # Their own session: a terminal's Ctrl-C reaches only us, and we
            # stop them in order instead of racing their own signal handling.
            self.children[name] = subprocess.Popen(command, start_new_session=True)  # noqa: S603
            logger.info("started %s (pid %s)", name, self.children[name].pid)

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("received %s, stopping", signal.Signals(signum).name)
        self.stopping = True

    def wait(self) -> int:
        while not self.stopping:
            exited = {
                name: c.returncode for name, c in self.children.items() if c.poll() is not None
            }
            if exited:
                logger.error("%s exited unexpectedly; stopping the others", exited)
                self.stop()
                return 1
            time.sleep(0.2)
        self.stop()
        return 0

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + CHILD_STOP_TIMEOUT
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", name)
                child.kill()
                child.wait()


def child_commands(options: ServeOptions) -> dict[str, list[str]]:
    python = sys.executable
    commands = {
        "web": [
            python,
            "-m",
            "daphne",
            "-b",
            options.host,
            "-p",
            str(options.port),
            "--websocket-max-message-size",
            str(websocket_transport_limit()),
            "conductor_site.asgi:application",
        ],
    }
    if options.worker:
        commands["worker"] = [
            python,
            "-m",
            "celery",
            "-A",
            "conductor_site",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(options.concurrency),
        ]
    if options.beat:
        commands["beat"] = [
            python,
            "-m",
            "celery",
            "-A",
            "conductor_site",
            "beat",
            "--loglevel",
            "INFO",
        ]
    return commands


def serve_processes(options: ServeOptions) -> int:
    group = ProcessGroup(child_commands(options))
    signal.signal(signal.SIGINT, group.request_stop)
    signal.signal(signal.SIGTERM, group.request_stop)
    group.start()
    return group.wait()
