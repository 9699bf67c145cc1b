"""The `conductor` command's rendering and config, without a server."""

from __future__ import annotations

import io
import json
import os
import stat
from decimal import Decimal

import pytest

from conductor_client import RunEvent
from conductor_client.cli import EXIT_ERROR, error_message, main, step_summary
from conductor_client.config import (
    Credentials,
    NotLoggedIn,
    config_path,
    load_credentials,
    save_credentials,
)
from conductor_client.display import (
    JsonRenderer,
    PlainRenderer,
    RunProgress,
    format_duration,
    short_args,
    tool_line,
)

RUN = "3f0c6a8e-0000-4000-8000-000000000001"


def event(seq: int, name: str, **data: object) -> RunEvent:
    return RunEvent(seq=seq, run_id=RUN, event=name, data=dict(data), timestamp="2025-01-01T00:00Z")


def test_a_successful_tool_call_folds_into_one_line_with_its_duration():
    called = {"id": "c1", "tool": "web_fetch", "arguments": {"url": "https://example.com"}}
    result = {"id": "c1", "tool": "web_fetch", "success": True, "duration_ms": 120}

    assert tool_line(called, result) == 'web_fetch(url="https://example.com") → ok (120 ms)'


def test_a_failed_tool_call_shows_its_error_on_the_same_line():
    called = {"tool": "code_run", "arguments": {"language": "python"}}
    result = {"success": False, "error": "CPU limit\nreached", "duration_ms": 3200}

    assert tool_line(called, result) == (
        'code_run(language="python") → error: CPU limit reached (3.2 s)'
    )


def test_long_arguments_are_cut_to_one_short_line():
    args = short_args({"query": "SELECT " + "x, " * 100 + "FROM t", "limit": 5}, width=40)

    assert len(args) == 40
    assert args.endswith("…")
    assert "\n" not in args


def test_durations_read_naturally():
    assert [format_duration(ms) for ms in (5, 1500, 125_000, None)] == [
        "5 ms",
        "1.5 s",
        "2 min 05 s",
        "?",
    ]


def test_the_progress_line_counts_steps_tokens_and_cost():
    progress = RunProgress()
    for item in [
        event(1, "run.queued", agent="a", model="m"),
        event(2, "run.started", model="m"),
        event(3, "llm.completed", prompt_tokens=1000, completion_tokens=234, cost_usd="0.0012"),
        event(4, "tool.called", id="c1", tool="sql_query", arguments={}),
    ]:
        progress.apply(item)

    assert progress.line() == "running sql_query · 1 step · 1,234 tokens · $0.0012"
    progress.apply(event(5, "llm.completed", prompt_tokens=10, completion_tokens=5, cost_usd=None))
    assert progress.cost == Decimal("0.0012")
    assert progress.line().startswith("thinking · 2 steps · 1,249 tokens")


def test_the_plain_renderer_streams_text_folds_tools_and_ends_with_the_answer():
    out = io.StringIO()
    renderer = PlainRenderer(RUN, out)
    for item in [
        event(1, "run.queued", agent="echo", model="gpt-4o-mini"),
        event(2, "llm.delta", text="Let me "),
        event(3, "llm.delta", text="look."),
        event(4, "llm.completed", prompt_tokens=7, completion_tokens=3, cost_usd="0.0001"),
        event(5, "tool.called", id="c1", tool="echo", arguments={"text": "hi"}),
        event(6, "tool.result", id="c1", tool="echo", success=True, duration_ms=4),
        event(7, "run.succeeded", status="succeeded", result="All done.", duration_ms=2100),
    ]:
        renderer.handle(item)
    renderer.close()

    lines = out.getvalue().splitlines()
    assert lines[0] == f"· run {RUN} queued: agent echo, gpt-4o-mini"
    assert lines[1] == "Let me look."
    assert lines[2] == '✓ echo(text="hi") → ok (4 ms)'
    assert lines[3] == "· succeeded in 2.1 s · 1 step · 10 tokens · $0.0001"
    assert lines[-1] == "All done."
    assert "\x1b[" not in out.getvalue()


def test_the_plain_renderer_tells_how_to_decide_an_approval():
    out = io.StringIO()
    PlainRenderer(RUN, out).handle(
        event(4, "approval.required", approval_id="ap-1", tool="sql_query", arguments={"q": 1})
    )

    assert f"conductor approve {RUN} ap-1" in out.getvalue()
    assert f"conductor approve {RUN} ap-1 --deny" in out.getvalue()


def test_the_json_renderer_prints_the_envelope_on_one_line():
    out = io.StringIO()
    JsonRenderer(out).handle(event(3, "llm.delta", text="hi\nthere"))

    (line,) = out.getvalue().splitlines()
    assert json.loads(line) == {
        "id": 3,
        "run_id": RUN,
        "event": "llm.delta",
        "data": {"text": "hi\nthere"},
        "timestamp": "2025-01-01T00:00Z",
    }


def test_steps_are_summarised_by_kind():
    assert step_summary("llm_call", {"content": "", "tool_calls": [{"name": "echo"}]}) == "→ echo"
    assert step_summary("tool_call", {"tool": "echo", "arguments": {"text": "a"}}) == (
        'echo(text="a")'
    )
    assert step_summary("approval", {"tool": "sql_query", "status": "pending"}) == (
        "sql_query pending"
    )


def test_login_config_lives_under_xdg_config_home_else_home():
    xdg = config_path({"XDG_CONFIG_HOME": "/x", "HOME": "/h"})

    assert xdg.as_posix() == "/x/conductor/config.json"
    assert config_path({"HOME": "/h"}).as_posix() == "/h/.config/conductor/config.json"


def test_saved_credentials_are_private_even_over_a_readable_file(tmp_path):
    path = tmp_path / "conf" / "conductor" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    path.chmod(0o644)

    save_credentials(Credentials(url="http://h", token="t0k"), path)

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert json.loads(path.read_text()) == {"url": "http://h", "token": "t0k"}


def test_the_environment_overrides_each_stored_value(tmp_path):
    path = tmp_path / "config.json"
    save_credentials(Credentials(url="http://stored/", token="stored"), path)

    assert load_credentials({}, path) == Credentials("http://stored", "stored")
    assert load_credentials({"CONDUCTOR_TOKEN": "env"}, path) == Credentials("http://stored", "env")
    with pytest.raises(NotLoggedIn, match="conductor login"):
        load_credentials({}, tmp_path / "missing.json")


def test_an_unknown_error_is_not_hidden_but_client_errors_are_one_line():
    assert error_message(RuntimeError("bug")) is None
    assert "conductor login" in (error_message(NotLoggedIn("not logged in: conductor login")) or "")


def test_not_being_logged_in_exits_2_naming_conductor_login(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("CONDUCTOR_URL", raising=False)
    monkeypatch.delenv("CONDUCTOR_TOKEN", raising=False)

    assert main(["agents"]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: not logged in")
    assert "conductor login" in err
