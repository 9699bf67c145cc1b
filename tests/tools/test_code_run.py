"""code_run: each attack goes through the tool and must end contained, with a clear outcome."""

from __future__ import annotations

import json
import os
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.runtime.tools import ToolContext, ToolResult
from apps.tools import sandbox
from apps.tools.code_run import CodeRunTool

CONTEXT = ToolContext(run_id="test-run", user_id=None, cwd="/nonexistent")


def sandbox_pids() -> set[int]:
    pids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nUid:\t{sandbox.SANDBOX_UID}\t" in text:
            pids.add(int(status.parent.name))
    return pids


@pytest.fixture
def isolation() -> Iterator[None]:
    """Skips where the host cannot sandbox at all; asserts no sandbox process outlives a test."""
    reason = sandbox.privilege_unavailable_reason() or sandbox.netns_unavailable_reason()
    if reason:
        pytest.skip(f"this host cannot sandbox code_run: {reason}")
    before = sandbox_pids()
    yield
    assert sandbox_pids() - before == set()


async def code_run(language: str, code: str, **extra: Any) -> ToolResult:
    return await CodeRunTool().run({"language": language, "code": code, **extra}, CONTEXT)


@pytest.fixture
def loopback_server() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server
    server.close()


def exists(path: str | Path) -> bool:
    return Path(path).exists()


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        server.accept()


@pytest.mark.usefixtures("isolation")
class TestRunning:
    async def test_it_runs_python_and_returns_its_output(self) -> None:
        result = await code_run("python", "print('hello from python')")

        assert result.success, result
        assert result.result["stdout"] == "hello from python\n"
        assert result.result["exit_code"] == 0
        assert result.result["timed_out"] is False

    async def test_it_runs_javascript_and_returns_its_output(self) -> None:
        result = await code_run("javascript", "console.log('hello from ' + 'javascript')")

        assert result.success, result
        assert result.result["stdout"] == "hello from javascript\n"
        assert result.result["stderr"] == ""

    async def test_it_runs_code_at_the_size_limit(self) -> None:
        code = "x = '\u00e9'\n" * 8000 + "print(len(x))"
        result = await code_run("python", code + " " * (100_000 - len(code.encode()) - 1))

        assert result.success, result
        assert result.result["stdout"] == "1\n"

    async def test_it_gives_the_program_its_stdin(self) -> None:
        result = await code_run("python", "print(input()[::-1])", stdin="olleh\n")

        assert result.result["stdout"] == "hello\n"

    async def test_it_reports_a_failing_program_with_its_stderr(self) -> None:
        result = await code_run("python", "raise SystemExit('bad input')")

        assert not result.success
        assert result.error == "The code exited with status 1."
        assert result.result["stderr"] == "bad input\n"

    async def test_it_gives_no_secrets_in_the_environment(self) -> None:
        result = await code_run("python", "import os, json; print(json.dumps(dict(os.environ)))")

        environment = json.loads(result.result["stdout"])
        assert set(environment) == {"PATH", "HOME", "LANG"}


@pytest.mark.usefixtures("isolation")
class TestContainment:
    async def test_it_stops_a_fork_bomb(self) -> None:
        started = time.monotonic()
        result = await code_run("python", "import os\nwhile True:\n    os.fork()", timeout=10)

        assert not result.success
        assert "Resource temporarily unavailable" in result.result["stderr"]
        assert time.monotonic() - started < 10

    async def test_it_kills_a_fork_bomb_that_ignores_errors_at_the_timeout(self) -> None:
        code = (
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
        )
        started = time.monotonic()
        result = await code_run("python", code, timeout=2)

        assert result.result["timed_out"] is True
        assert time.monotonic() - started < 2 + 3

    async def test_it_fails_memory_exhaustion_inside_the_child(self) -> None:
        result = await code_run("python", "hog = bytearray(1024 ** 3)")

        assert not result.success
        assert result.result["stderr"].endswith("MemoryError\n")

    async def test_it_fails_memory_exhaustion_in_javascript(self) -> None:
        code = "const hog = []; while (true) hog.push(Buffer.alloc(16 * 1024 * 1024, 1));"
        result = await code_run("javascript", code)

        assert not result.success
        assert "allocation failed" in result.result["stderr"]

    async def test_it_kills_an_infinite_loop_at_the_timeout(self) -> None:
        started = time.monotonic()
        result = await code_run(
            "python", "print('started', flush=True)\nwhile True: pass", timeout=1
        )

        assert not result.success
        assert result.error == "The code was killed after the 1 s timeout."
        assert result.result["timed_out"] is True
        assert result.result["stdout"] == "started\n"
        assert time.monotonic() - started < 1 + 3

    async def test_it_kills_children_left_behind_by_the_program(self) -> None:
        code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)"
        result = await code_run("python", code)

        assert result.success, result
        # the isolation fixture asserts that the detached sleeper is gone

    async def test_it_cannot_reach_a_server_on_the_hosts_loopback(
        self, loopback_server: socket.socket
    ) -> None:
        port = loopback_server.getsockname()[1]
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
        result = await code_run("python", code)

        assert not result.success
        assert "Network is unreachable" in result.result["stderr"]
        assert_no_connection(loopback_server)

    async def test_it_cannot_reach_the_internet(self) -> None:
        # TEST-NET-1 (RFC 5737): never routed, so even a broken sandbox sends nothing anywhere.
        code = "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=2)"
        result = await code_run("python", code)

        assert "Network is unreachable" in result.result["stderr"]

    async def test_it_cannot_reach_the_network_from_javascript(
        self, loopback_server: socket.socket
    ) -> None:
        port = loopback_server.getsockname()[1]
        code = (
            f"require('net').connect({port}, '127.0.0.1')"
            ".on('error', (e) => { console.log(e.code); process.exit(3); });"
        )
        result = await code_run("javascript", code)

        assert result.result["exit_code"] == 3
        assert result.result["stdout"] == "ENETUNREACH\n"
        assert_no_connection(loopback_server)


WRITE_ATTEMPTS = """
import json, os, sys
outcomes = {}
for path in sys.stdin.read().split():
    path = path.replace("PARENT", os.path.dirname(os.getcwd()))
    try:
        with open(path, "w") as handle:
            handle.write("x")
        outcomes[path] = "written"
    except OSError as exc:
        outcomes[path] = type(exc).__name__
print(json.dumps(outcomes))
"""


@pytest.mark.usefixtures("isolation")
class TestFileSystem:
    async def test_it_cannot_write_outside_its_working_directory(self) -> None:
        targets = ["/etc/conductor-test", f"{settings.BASE_DIR}/conductor-test", "PARENT/escape"]
        result = await code_run("python", WRITE_ATTEMPTS, stdin="\n".join(targets))

        outcomes = json.loads(result.result["stdout"])
        assert set(outcomes.values()) == {"PermissionError"}, outcomes
        assert not exists("/etc/conductor-test")
        assert not exists(settings.BASE_DIR / "conductor-test")

    async def test_it_starts_in_an_empty_directory_it_can_write_to(self) -> None:
        code = "import os\nprint(os.listdir('.'))\nopen('notes.txt', 'w').write('kept')\n"
        result = await code_run("python", code + "print(open('notes.txt').read())")

        assert result.result["stdout"] == "[]\nkept\n"

    async def test_it_deletes_the_working_directory_afterwards(self) -> None:
        result = await code_run("python", "import os; open('a', 'w'); print(os.getcwd())")

        workdir = Path(result.result["stdout"].strip())
        assert workdir.name == "work"
        assert not exists(workdir)
        assert not exists(workdir.parent)

    async def test_it_limits_the_size_of_written_files(self) -> None:
        code = "open('big', 'wb').write(b'x' * 2_000_000)"
        result = await code_run("python", code)

        assert not result.success
        assert "File too large" in result.result["stderr"]

    async def test_it_truncates_large_output(self) -> None:
        result = await code_run("python", "print('x' * 1_000_000)")

        assert result.success, result
        assert len(result.result["stdout"]) == sandbox.OUTPUT_CAP_BYTES
        assert result.result["stdout_truncated"] is True
        assert result.result["stderr_truncated"] is False


class TestRefusals:
    async def test_it_refuses_to_run_without_a_network_namespace(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sandbox, "netns_unavailable_reason", lambda: "unshare: EPERM")
        result = await code_run("python", "print('should not run')")

        assert not result.success
        assert result.result is None
        assert result.error == "cannot isolate the network: unshare: EPERM"

    @pytest.mark.usefixtures("isolation")
    async def test_it_runs_without_a_network_namespace_only_when_configured_to(
        self, monkeypatch: pytest.MonkeyPatch, settings: Any
    ) -> None:
        settings.CONDUCTOR_CODE_RUN_REQUIRE_NETNS = False
        monkeypatch.setattr(sandbox, "netns_unavailable_reason", lambda: "unshare: EPERM")
        result = await code_run("python", "import os; print(os.getuid())")

        assert result.success, result
        assert result.result["stdout"] == f"{sandbox.SANDBOX_UID}\n"

    async def test_it_refuses_when_it_cannot_drop_root(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(os, "geteuid", lambda: 1000)
        result = await code_run("python", "print('should not run')")

        assert not result.success
        assert "cannot sandbox the code" in (result.error or "")

    @pytest.mark.usefixtures("isolation")
    async def test_it_refuses_when_the_child_cannot_apply_a_limit(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        beyond_the_kernel = resource.getrlimit(resource.RLIMIT_NOFILE)[1] * 2**20
        original = sandbox.Limits.rlimits

        def impossible(limits: sandbox.Limits) -> dict[str, tuple[int, int]]:
            return {**original(limits), "RLIMIT_NOFILE": (64, beyond_the_kernel)}

        monkeypatch.setattr(sandbox.Limits, "rlimits", impossible)
        result = await code_run("python", "print('should not run')")

        assert not result.success
        assert result.result is None
        assert "cannot apply the RLIMIT_NOFILE limit" in (result.error or "")

    def test_the_launcher_names_the_limit_setrlimit_rejected(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def reject(which: int, limits: tuple[int, int]) -> None:
            raise ValueError("not allowed")

        monkeypatch.setattr(resource, "setrlimit", reject)
        with pytest.raises(sandbox.LaunchError, match="cannot apply the RLIMIT_AS limit"):
            sandbox.apply_limits({"RLIMIT_AS": (1, 1)})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"language": "ruby", "code": "puts 1"}, "language must be one of python, javascript."),
        ({"language": "python"}, "code must be a string."),
        ({"language": "python", "code": "#" * 100_001}, "code must be at most 100000 bytes."),
        (
            {"language": "python", "code": "1", "timeout": 61},
            "timeout must be above 0 and at most 60.",
        ),
        (
            {"language": "python", "code": "1", "timeout": 0},
            "timeout must be above 0 and at most 60.",
        ),
        (
            {"language": "python", "code": "1", "timeout": "5"},
            "timeout must be a number of seconds.",
        ),
        ({"language": "python", "code": "1", "stdin": 5}, "stdin must be a string."),
    ],
)
async def test_it_rejects_invalid_arguments(arguments: dict[str, Any], message: str) -> None:
    result = await CodeRunTool().run(arguments, CONTEXT)

    assert result == ToolResult(success=False, error=message)
