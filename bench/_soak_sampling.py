"""What bench.soak samples while its runs go through, from ``/proc`` and PostgreSQL.

Per process group (each child of the soak is started in a session of its own, so a Celery
worker's group holds its main process and its pool process): resident memory, CPU time,
and the PostgreSQL connections its processes hold, found by matching the sockets in their
``/proc/<pid>/fd`` with the loopback connections to the server's port in ``/proc/net/tcp``.
Besides, the server's own count of connections to the soak database (``pg_stat_activity``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ESTABLISHED = "01"
PROBE_APPLICATION = "conductor-soak-probe"  # our own connection, left out of the counts


def group_members(pgid: int) -> list[int]:
    """The live processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (which may hold spaces): state first."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    return text.rsplit(")", 1)[1].split()


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except OSError:
        return 0


def cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def postgres_sockets(port: int) -> set[int]:
    """Inodes of the established TCP connections to ``port`` (a client's side)."""
    inodes: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            remote_port = int(columns[2].rsplit(":", 1)[1], 16)
            if remote_port == port and columns[3] == ESTABLISHED:
                inodes.add(int(columns[9]))
    return inodes


@dataclass
class Sample:
    at: float  # time.monotonic()
    runs_done: int
    rss_mb: dict[str, float]
    cpu_s: dict[str, float]
    connections: dict[str, int]  # per group, from its sockets
    database_connections: int  # pg_stat_activity, every client of the soak database


@dataclass
class Sampler:
    """Samples every ``interval`` seconds on a thread, from ``start()`` until ``stop()``."""

    groups: dict[str, int]  # name -> process group id
    database: str
    connect: Callable[[], Any]  # a psycopg connection to the server, autocommit
    runs_done: Callable[[], int]
    postgres_port: int = 5432
    interval: float = 1.0
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="soak-sampler", daemon=True)
        self._probe = self.connect()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> Sample:
        """Stops sampling; takes and returns one last sample."""
        self._stop.set()
        self._thread.join(timeout=30)
        last = self.sample()
        self.samples.append(last)
        self._probe.close()
        return last

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.sample())
            self._stop.wait(self.interval)

    def sample(self) -> Sample:
        sockets = postgres_sockets(self.postgres_port)
        rss, cpu, connections = {}, {}, {}
        for name, pgid in self.groups.items():
            members = group_members(pgid)
            rss[name] = sum(rss_bytes(pid) for pid in members) / 2**20
            cpu[name] = sum(cpu_seconds(pid) for pid in members)
            connections[name] = sum(len(_socket_inodes(pid) & sockets) for pid in members)
        return Sample(
            at=time.monotonic(),
            runs_done=self.runs_done(),
            rss_mb=rss,
            cpu_s=cpu,
            connections=connections,
            database_connections=self._database_connections(),
        )

    def _database_connections(self) -> int:
        row = self._probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
            (self.database, PROBE_APPLICATION),
        ).fetchone()
        return int(row[0])


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points; 0 for fewer than two distinct x."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
