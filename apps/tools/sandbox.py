"""A subprocess sandbox: no network, rlimits, an unprivileged uid and an empty working directory.

The parent (root) starts ``unshare --net --pid --fork --kill-child --mount-proc``, which runs
this very file as a launcher in fresh network, PID and mount namespaces. The launcher applies
the rlimits, drops to ``SANDBOX_UID`` and execs the interpreter. Any step that fails is reported
on a status pipe and nothing runs: the sandbox is never silently weakened.

This module imports only the standard library at the top, because the launcher runs it with
``python -I -S`` where neither Django nor the project is importable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SANDBOX_UID = 65534
SANDBOX_GID = 65534
OUTPUT_CAP_BYTES = 20_000
PROCESS_LIMIT = 32
FILE_SIZE_LIMIT_BYTES = 1_000_000
OPEN_FILES_LIMIT = 64
KILL_GRACE_SECONDS = 2.0
UNSHARE_ARGS = ("--net", "--pid", "--fork", "--kill-child", "--mount-proc")
PROBE_TIMEOUT_SECONDS = 5.0
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


class SandboxUnavailable(Exception):
    """The sandbox cannot be set up as required; the code was not run."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    cpu_seconds: int
    processes: int = PROCESS_LIMIT
    file_size_bytes: int = FILE_SIZE_LIMIT_BYTES
    open_files: int = OPEN_FILES_LIMIT

    def rlimits(self) -> dict[str, tuple[int, int]]:
        return {
            "RLIMIT_CORE": (0, 0),
            "RLIMIT_AS": (self.memory_bytes, self.memory_bytes),
            "RLIMIT_CPU": (self.cpu_seconds, self.cpu_seconds + 1),
            "RLIMIT_NPROC": (self.processes, self.processes),
            "RLIMIT_FSIZE": (self.file_size_bytes, self.file_size_bytes),
            "RLIMIT_NOFILE": (self.open_files, self.open_files),
        }


@dataclass(frozen=True)
class SandboxRequest:
    argv: list[str]
    limits: Limits
    timeout: float
    stdin: str = ""
    require_netns: bool = True


@dataclass
class CappedOutput:
    cap: int = OUTPUT_CAP_BYTES
    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.data)
        self.data += chunk[: max(room, 0)]
        self.truncated = self.truncated or len(chunk) > room

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class SandboxOutcome:
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    exit_code: int | None
    timed_out: bool
    duration_ms: int


# --- the launcher: runs inside the namespaces, as root until it drops privileges ----------


class LaunchError(Exception):
    pass


def apply_limits(rlimits: dict[str, tuple[int, int]]) -> None:
    for name, (soft, hard) in rlimits.items():
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (ValueError, OSError, AttributeError) as exc:
            raise LaunchError(f"cannot apply the {name} limit ({soft}, {hard}): {exc}") from exc


def drop_privileges(uid: int, gid: int) -> None:
    try:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    except OSError as exc:
        raise LaunchError(f"cannot switch to uid {uid}: {exc}") from exc
    if os.getuid() != uid or os.geteuid() != uid or os.getegid() != gid:
        raise LaunchError(f"still privileged after switching to uid {uid}")


def launch(status_fd: int, spec: dict[str, Any], argv: list[str]) -> None:
    """Never returns: execs the interpreter or reports why not and exits 125."""
    os.set_inheritable(status_fd, False)
    try:
        apply_limits({name: (soft, hard) for name, (soft, hard) in spec["rlimits"].items()})
        drop_privileges(spec["uid"], spec["gid"])
        os.chdir(spec["cwd"])
        os.execve(argv[0], argv, spec["env"])  # noqa: S606 - argv, no shell
    except (LaunchError, OSError) as exc:
        os.write(status_fd, str(exc).encode())
    os._exit(125)


# --- the parent side -----------------------------------------------------------------------


def real_python() -> str:
    return os.path.realpath(sys.executable)


def find_interpreter(name: str) -> str:
    """The interpreter the sandbox uid can execute: the one on the child's own PATH."""
    found = shutil.which(name, path=SAFE_PATH)
    if found is None:
        raise SandboxUnavailable(f"cannot run the code: {name} is not installed in {SAFE_PATH}")
    return found


@functools.cache
def netns_unavailable_reason() -> str | None:
    """Why the namespaces cannot be created, found by trying once; None when they can."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "the unshare command is not installed"
    try:
        probe = subprocess.run(  # noqa: S603 - a fixed argv
            [unshare, *UNSHARE_ARGS, "true"],
            capture_output=True,
            timeout=PROBE_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"unshare failed: {probe.stderr.decode(errors='replace').strip()}"
    return None


def privilege_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return (
            "the worker does not run as root, so the child cannot be switched to "
            f"uid {SANDBOX_UID}; its writes would not be confined to its working directory"
        )
    return None


def isolation_prefix(require_netns: bool) -> list[str]:
    reason = privilege_unavailable_reason()
    if reason:
        raise SandboxUnavailable(f"cannot sandbox the code: {reason}")
    reason = netns_unavailable_reason()
    if reason is None:
        return [shutil.which("unshare") or "unshare", *UNSHARE_ARGS]
    if require_netns:
        raise SandboxUnavailable(f"cannot isolate the network: {reason}")
    return []


def launcher_argv(
    prefix: list[str], status_fd: int, spec: dict[str, Any], argv: list[str]
) -> list[str]:
    """The program's argv is passed as is: inside the JSON, escaping could push the code
    over the kernel's 128 KB limit on a single argument."""
    launcher = [real_python(), "-I", "-S", __file__, str(status_fd), json.dumps(spec)]
    return [*prefix, *launcher, *argv]


def child_env(home: str) -> dict[str, str]:
    return {"PATH": SAFE_PATH, "HOME": home, "LANG": "C.UTF-8"}


def make_workdir(root: str) -> str:
    """An empty directory the sandbox uid owns, inside ``root`` which it may only traverse."""
    os.chmod(root, 0o711)  # noqa: S103 - traverse only, no listing, no writes
    workdir = os.path.join(root, "work")
    os.mkdir(workdir, 0o700)
    os.chown(workdir, SANDBOX_UID, SANDBOX_GID)
    return workdir


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


async def pump(stream: asyncio.StreamReader | None, sink: CappedOutput) -> None:
    """Reads to the end, keeping the first bytes; the rest is drained so the child never blocks."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        sink.add(chunk)


async def feed(stream: asyncio.StreamWriter | None, data: str) -> None:
    if stream is None:
        return
    try:
        stream.write(data.encode())
        await stream.drain()
        stream.close()
    except (BrokenPipeError, ConnectionResetError):
        pass


def read_status(fd: int) -> str:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 4096).decode(errors="replace")
    except BlockingIOError:
        return ""


def namespace_inits(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


async def kill_sandbox(process: asyncio.subprocess.Process, namespaced: bool) -> None:
    """Kills the PID namespace's init first.

    The kernel kills the rest of the namespace and lets init exit only once they are all gone,
    so when ``unshare`` exits nothing of the sandbox is left. Killing ``unshare`` first would
    return while the namespace is still being torn down.
    """
    if namespaced:
        for init in namespace_inits(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(init, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), KILL_GRACE_SECONDS)
    if process.returncode is None:
        kill_group(process.pid)
        await process.wait()


async def wait_or_kill(
    process: asyncio.subprocess.Process, seconds: float, namespaced: bool
) -> bool:
    """Waits for the child; after ``seconds`` kills all of it. True when it timed out."""
    try:
        async with asyncio.timeout(seconds):
            await process.wait()
        return False
    except TimeoutError:
        await kill_sandbox(process, namespaced)
        return True


async def finish_pumps(pumps: list[asyncio.Task[None]]) -> None:
    _, pending = await asyncio.wait(pumps, timeout=KILL_GRACE_SECONDS)
    for task in pending:
        task.cancel()


async def supervise(
    process: asyncio.subprocess.Process, request: SandboxRequest, namespaced: bool
) -> SandboxOutcome:
    started = time.monotonic()
    stdout, stderr = CappedOutput(), CappedOutput()
    pumps = [
        asyncio.create_task(pump(process.stdout, stdout)),
        asyncio.create_task(pump(process.stderr, stderr)),
        asyncio.create_task(feed(process.stdin, request.stdin)),
    ]
    try:
        timed_out = await wait_or_kill(process, request.timeout, namespaced)
        await finish_pumps(pumps)
    finally:
        if process.returncode is None:  # cancelled from outside
            kill_group(process.pid)
    return SandboxOutcome(
        stdout=stdout.text(),
        stderr=stderr.text(),
        stdout_truncated=stdout.truncated,
        stderr_truncated=stderr.truncated,
        exit_code=None if timed_out else process.returncode,
        timed_out=timed_out,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


async def spawn(argv: list[str], cwd: str, status_fd: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=child_env(cwd),
        start_new_session=True,
        pass_fds=(status_fd,),
    )


async def run_in_workdir(request: SandboxRequest, workdir: str) -> SandboxOutcome:
    prefix = await asyncio.to_thread(isolation_prefix, request.require_netns)
    spec = {
        "rlimits": request.limits.rlimits(),
        "uid": SANDBOX_UID,
        "gid": SANDBOX_GID,
        "cwd": workdir,
        "env": child_env(workdir),
    }
    status_read, status_write = os.pipe()
    try:
        try:
            argv = launcher_argv(prefix, status_write, spec, request.argv)
            process = await spawn(argv, workdir, status_write)
        except OSError as exc:
            raise SandboxUnavailable(f"cannot start the sandbox: {exc}") from exc
        finally:
            os.close(status_write)
        outcome = await supervise(process, request, namespaced=bool(prefix))
        failure = read_status(status_read)
    finally:
        os.close(status_read)
    if failure:
        raise SandboxUnavailable(f"the sandbox refused to run the code: {failure}")
    return outcome


async def run_sandboxed(request: SandboxRequest) -> SandboxOutcome:
    """Runs ``request.argv`` in a fresh empty directory that is deleted afterwards.

    Raises ``SandboxUnavailable`` instead of running with weaker isolation.
    """
    with tempfile.TemporaryDirectory(prefix="conductor-code-run-") as root:
        return await run_in_workdir(request, make_workdir(root))


if __name__ == "__main__":
    launch(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3:])
