"""The `conductor` command as a user runs it: a real subprocess against a live server."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes import llm_server as llm
from tests.subprocesses import BASE_DIR

pytestmark = pytest.mark.slow

ANSI = re.compile(r"\x1b\[")
COMMAND_TIMEOUT = 60
CWD = ("--cwd", "/srv/project")  # the server refuses a run without a working directory


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def base_env(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONDUCTOR_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "xdg"), PYTHONUNBUFFERED="1")
    # Asks rich for colour: the command must still print none to a pipe.
    env.update(FORCE_COLOR="1", TERM="xterm-256color")
    env.update(extra)
    return env


@pytest.fixture
def env(home: Path, live_server) -> dict[str, str]:
    return base_env(home, CONDUCTOR_URL=live_server.url, CONDUCTOR_TOKEN=live_server.token)


def conductor(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "conductor_client.cli", *args],
        env=env,
        cwd=BASE_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


class Running:
    """A `conductor` subprocess whose stdout lines are read as they come."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "conductor_client.cli", *args],
            env=env,
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self.errors: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines)),
            threading.Thread(target=self._read, args=(self.process.stderr, self.errors)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if predicate(line):
                    return line
            if self.process.poll() is not None and not any(r.is_alive() for r in self._readers):
                break
            time.sleep(0.05)
        pytest.fail(f"no such line; stdout: {self.lines}\nstderr: {self.errors}")

    def answer(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def wait(self, timeout: float = COMMAND_TIMEOUT) -> int:
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def running(env) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(*args: str) -> Running:
        started.append(Running(*args, env=env))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def wait_for_llm_calls(fake, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.requests) < count:
        if time.monotonic() > deadline:
            pytest.fail(f"the fake LLM got {len(fake.requests)} calls, not {count}")
        time.sleep(0.05)


def api(live_server, path: str) -> dict:
    headers = {"Authorization": f"Token {live_server.token}"}
    return httpx.get(f"{live_server.url}{path}", headers=headers, timeout=10).json()


def run_id_in(text: str) -> str:
    match = re.search(r"run ([0-9a-f-]{36})", text)
    assert match, text
    return match.group(1)


# -- run -----------------------------------------------------------------------------------------


def test_a_run_that_succeeds_prints_its_answer_without_colour_and_exits_0(
    live_server, fake_llm_live, env
):
    fake_llm_live.script(llm.text("The answer is 42.", chunks=3))

    result = conductor("run", *CWD, live_server.echo_agent, "What is the answer?", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "The answer is 42."
    assert any(line.startswith("· succeeded in ") and "1 step" in line for line in lines)
    assert not ANSI.search(result.stdout + result.stderr)


def test_a_run_that_fails_exits_1_with_the_error(live_server, fake_llm_live, env):
    fake_llm_live.script(llm.error(400, "the model refuses"))

    result = conductor("run", *CWD, live_server.echo_agent, "Fail, please", env=env)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "· failed in" in result.stdout
    assert "error:" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_run_past_its_timeout_exits_4(live_server, fake_llm_live, env):
    fake_llm_live.script(llm.slow(20, llm.text("too late")))

    result = conductor(
        "run", *CWD, live_server.echo_agent, "Take your time", "--timeout", "1", env=env
    )

    assert result.returncode == 4, result.stdout + result.stderr
    assert "timed out in" in result.stdout


def test_json_prints_one_envelope_per_line_ending_with_the_terminal_event(
    live_server, fake_llm_live, env
):
    fake_llm_live.script(llm.text("Streamed answer.", chunks=4))

    result = conductor("run", *CWD, live_server.echo_agent, "Stream it", "--json", env=env)

    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["id"] for event in events] == list(range(1, len(events) + 1))
    assert {"id", "run_id", "event", "data", "timestamp"} <= set(events[0])
    assert events[0]["event"] == "run.queued"
    assert "llm.delta" in [event["event"] for event in events]
    assert events[-1]["event"] == "run.succeeded"
    assert events[-1]["data"]["result"] == "Streamed answer."


def test_ctrl_c_then_yes_cancels_the_run_through_the_api_and_exits_3(
    live_server, fake_llm_live, running
):
    fake_llm_live.script(llm.slow(30, llm.text("never shown")))
    process = running("run", *CWD, live_server.echo_agent, "Wait for me")
    run_id = run_id_in(process.wait_for_line(lambda line: "queued" in line))
    wait_for_llm_calls(fake_llm_live, 1)

    process.process.send_signal(signal.SIGINT)
    process.answer("y\n")

    assert process.wait() == 3, (process.lines, process.errors)
    assert "cancel the run? [y/N]" in "\n".join(process.errors)
    assert any(line.startswith("· cancelled in") for line in process.lines)
    assert api(live_server, f"/api/runs/{run_id}/")["status"] == "cancelled"


def test_ctrl_c_then_no_detaches_with_130_and_runs_follow_picks_it_up(
    live_server, fake_llm_live, running, env
):
    fake_llm_live.script(llm.slow(4, llm.text("Worth the wait.")))
    process = running("run", *CWD, live_server.echo_agent, "Slow one")
    run_id = run_id_in(process.wait_for_line(lambda line: "queued" in line))
    wait_for_llm_calls(fake_llm_live, 1)

    process.process.send_signal(signal.SIGINT)
    process.answer("n\n")

    assert process.wait() == 130
    assert f"conductor runs follow {run_id}" in "\n".join(process.errors)
    followed = conductor("runs", "follow", run_id, env=env)
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.splitlines()[-1] == "Worth the wait."
    assert f"run {run_id} queued" in followed.stdout  # from the start


# -- login and errors ----------------------------------------------------------------------------


def test_login_saves_a_private_config_that_later_commands_use(live_server, home):
    env = base_env(home)

    login = conductor("login", "--url", live_server.url, "--token", live_server.token, env=env)

    assert login.returncode == 0, login.stderr
    assert f"as {live_server.username}" in login.stdout
    path = home / "xdg" / "conductor" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"url": live_server.url, "token": live_server.token}
    assert conductor("agents", env=env).returncode == 0


def test_the_environment_overrides_the_saved_login(live_server, home):
    env = base_env(home)
    conductor("login", "--url", live_server.url, "--token", live_server.token, env=env)

    result = conductor("agents", env={**env, "CONDUCTOR_TOKEN": "not-a-real-token"})

    assert result.returncode == 2
    assert "conductor login" in result.stderr


def test_login_with_a_bad_token_saves_nothing(live_server, home):
    env = base_env(home)

    result = conductor("login", "--url", live_server.url, "--token", "wrong", env=env)

    assert result.returncode == 2
    assert not (home / "xdg" / "conductor" / "config.json").exists()


def test_a_refused_token_gives_one_line_naming_conductor_login(live_server, home):
    env = base_env(home, CONDUCTOR_URL=live_server.url, CONDUCTOR_TOKEN="expired")

    result = conductor("runs", env=env)

    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "401" in line
    assert "conductor login" in line


def test_an_unknown_agent_is_a_clean_api_error(env):
    result = conductor("run", *CWD, "no-such-agent", "hi", env=env)

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_an_unreachable_server_is_a_clean_error(home):
    env = base_env(home, CONDUCTOR_URL="http://127.0.0.1:9", CONDUCTOR_TOKEN="x")

    result = conductor("agents", env=env)

    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


# -- agents, runs, runs show ---------------------------------------------------------------------


def test_agents_lists_slug_name_emoji_and_model(live_server, env):
    result = conductor("agents", env=env)

    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["slug", "name", "emoji", "model"]
    assert any(row.split()[0] == live_server.echo_agent for row in rows)
    assert not ANSI.search(result.stdout)


def test_runs_lists_runs_filtered_by_status_and_show_gives_steps(live_server, fake_llm_live, env):
    fake_llm_live.script(llm.text("Listed."))
    run = conductor("run", *CWD, live_server.echo_agent, "List me", "--json", env=env)
    run_id = json.loads(run.stdout.splitlines()[0])["run_id"]

    listed = conductor("runs", "--status", "succeeded", "--limit", "200", env=env)
    failed = conductor("runs", "--status", "failed", "--limit", "200", env=env)
    shown = conductor("runs", "show", run_id, env=env)

    assert listed.returncode == failed.returncode == shown.returncode == 0
    assert listed.stdout.split()[:3] == ["id", "agent", "status"]
    assert run_id in listed.stdout
    assert run_id not in failed.stdout
    assert re.search(rf"^run\s+{run_id}$", shown.stdout, re.MULTILINE)
    assert re.search(r"^status\s+succeeded$", shown.stdout, re.MULTILINE)
    assert "Listed." in shown.stdout
    assert re.search(r"^\d+\s+llm_call\s", shown.stdout, re.MULTILINE)
    assert "approvals (0)" in shown.stdout


# -- approvals -----------------------------------------------------------------------------------


def start_careful_run(live_server, fake_llm_live, running) -> tuple[Running, dict]:
    fake_llm_live.script(
        llm.tool_call("sql_query", {"query": "SELECT 1"}), llm.text("Checked the database.")
    )
    process = running("run", *CWD, live_server.careful_agent, "Check the database", "--json")
    line = process.wait_for_line(lambda line: '"approval.required"' in line)
    return process, json.loads(line)


def test_approve_lets_a_waiting_run_go_on_and_finish(live_server, fake_llm_live, running, env):
    process, required = start_careful_run(live_server, fake_llm_live, running)
    run_id, approval_id = required["run_id"], required["data"]["approval_id"]

    decided = conductor("approve", run_id, approval_id, "--reason", "read-only", env=env)

    assert decided.returncode == 0, decided.stderr
    assert f"approval {approval_id} (sql_query): approved" in decided.stdout
    assert process.wait() == 0, process.errors
    events = [json.loads(line)["event"] for line in process.lines]
    events = [name for name in events if name != "llm.delta"]
    assert events[-4:] == ["approval.resolved", "tool.result", "llm.completed", "run.succeeded"]
    shown = conductor("runs", "show", run_id, env=env)
    assert re.search(r"^\d+\s+tool_call\s+sql_query\(query=\"SELECT 1\"\)", shown.stdout, re.M)
    assert re.search(r"^\d+\s+tool_result\s+sql_query → (ok|error)", shown.stdout, re.M)
    assert re.search(rf"^{approval_id}\s+sql_query\s.*\sapproved\s", shown.stdout, re.MULTILINE)


def test_approve_deny_tells_the_agent_why(live_server, fake_llm_live, running, env):
    process, required = start_careful_run(live_server, fake_llm_live, running)
    run_id, approval_id = required["run_id"], required["data"]["approval_id"]

    decided = conductor("approve", run_id, approval_id, "--deny", "--reason", "not today", env=env)

    assert decided.returncode == 0, decided.stderr
    assert "denied" in decided.stdout
    assert process.wait() == 0, process.errors
    observation = fake_llm_live.requests[-1]["messages"][-1]["content"]
    assert "not today" in observation
    shown = conductor("runs", "show", run_id, "--json", env=env)
    assert json.loads(shown.stdout)["approvals"][0]["status"] == "denied"


def test_the_plain_view_folds_the_approved_tool_call_into_one_line(
    live_server, fake_llm_live, running, env
):
    fake_llm_live.script(llm.tool_call("sql_query", {"query": "SELECT 1"}), llm.text("Checked."))
    process = running("run", *CWD, live_server.careful_agent, "Check it")
    line = process.wait_for_line(lambda line: line.startswith("  approve: conductor approve"))
    run_id, approval_id = line.split()[-2:]

    assert conductor("approve", run_id, approval_id, env=env).returncode == 0
    assert process.wait() == 0, process.errors
    (folded,) = [line for line in process.lines if "sql_query(" in line and "→" in line]
    assert re.fullmatch(r"[✓✗] sql_query\(query=\"SELECT 1\"\) → (ok|error.*) \(.+\)", folded)
    assert process.lines[-1] == "Checked."
