"""The `conductor` command: log in, list agents and runs, start and follow runs, decide approvals.

Exit codes: 0 the run succeeded (or the command worked), 1 the run failed, 2 a usage, login,
connection or API error, 3 the run was cancelled, 4 the run timed out, 130 interrupted (Ctrl-C)
and detached from a run that goes on, 141 stdout was closed (``| head``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from rich.console import Console

from conductor_client import (
    APIError,
    AuthenticationError,
    Conductor,
    ConductorError,
    ConnectionFailed,
    RunEvent,
)
from conductor_client.config import (
    BrokenConfig,
    Credentials,
    NotLoggedIn,
    config_path,
    load_credentials,
    save_credentials,
)
from conductor_client.display import (
    JsonRenderer,
    LiveRenderer,
    PlainRenderer,
    Renderer,
    format_cost,
    format_duration,
    make_console,
    print_details,
    print_table,
    short_args,
    shorten,
    to_decimal,
    tool_outcome,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2
EXIT_CANCELLED = 3
EXIT_TIMED_OUT = 4
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # as a shell reports a command killed by SIGPIPE

EXIT_FOR_EVENT = {
    "run.succeeded": EXIT_OK,
    "run.failed": EXIT_FAILED,
    "run.cancelled": EXIT_CANCELLED,
    "run.timed_out": EXIT_TIMED_OUT,
}
EXIT_FOR_STATUS = {name.removeprefix("run."): code for name, code in EXIT_FOR_EVENT.items()}

LOGIN_HINT = "run `conductor login --url URL --token TOKEN`"
# API error codes whose fix is a flag of this command.
FLAG_HINTS = {"cwd_required": "`conductor run` takes --cwd DIR or --screenplay ID"}


class UsageError(Exception):
    """A command line the command cannot act on (beyond what argparse checks)."""


class Session:
    """What every command needs: the output mode and, on demand, an API client."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(getattr(args, "json", False))
        self.plain = self.json or not _is_terminal(sys.stdout)
        self.console = make_console(plain=self.plain)
        self.url = ""

    def client(self) -> Conductor:
        credentials = load_credentials()
        self.url = credentials.url
        return Conductor(credentials.url, credentials.token)

    def print_json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def _is_terminal(stream: Any) -> bool:
    return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"


# -- login -------------------------------------------------------------------------------------


def cmd_login(args: argparse.Namespace, session: Session) -> int:
    url = (args.url or "").rstrip("/")
    if not url:
        raise UsageError("login needs --url, e.g. --url http://127.0.0.1:8000")
    token = args.token or _ask_token()
    session.url = url
    who = Conductor(url, token).request("GET", "/api/me/")
    path = save_credentials(Credentials(url=url, token=token))
    staff = " (staff)" if who.get("is_staff") else ""
    session.console.out(f"Logged in to {url} as {who.get('username', '?')}{staff}.")
    session.console.out(f"Saved to {path}.")
    overridden = [name for name in ("CONDUCTOR_URL", "CONDUCTOR_TOKEN") if os.environ.get(name)]
    if overridden:
        names = " and ".join(overridden)
        print(f"note: {names} is set and overrides the saved config", file=sys.stderr)
    return EXIT_OK


def _ask_token() -> str:
    asked = getpass.getpass("API token: ") if _is_terminal(sys.stdin) else sys.stdin.readline()
    token = asked.strip()
    if not token:
        raise UsageError("login needs --token (create one with `manage.py drf_create_token USER`)")
    return token


# -- agents ------------------------------------------------------------------------------------


def cmd_agents(args: argparse.Namespace, session: Session) -> int:
    agents = session.client().agents.list()
    if session.json:
        session.print_json(agents)
        return EXIT_OK
    rows = [
        [
            str(agent.get("slug", "")),
            str(agent.get("name", "")),
            str(agent.get("emoji") or ""),
            str(agent.get("model") or ""),
        ]
        for agent in agents
    ]
    print_table(session.console, ["slug", "name", "emoji", "model"], rows, plain=session.plain)
    return EXIT_OK


# -- run, runs follow --------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, session: Session) -> int:
    text = sys.stdin.read() if args.input == "-" else args.input
    options = {
        "screenplay_id": args.screenplay,
        "conversation_id": args.conversation,
        "cwd": args.cwd,
        "model": args.model,
        "timeout_seconds": args.timeout,
        "max_steps": args.max_steps,
    }
    client = session.client()
    run = client.runs.create(
        args.agent, text, **{key: value for key, value in options.items() if value is not None}
    )
    return follow(client, str(run["id"]), session)


def cmd_runs_follow(args: argparse.Namespace, session: Session) -> int:
    return follow(session.client(), args.run_id, session)


@dataclass
class _Position:
    after: int = 0
    terminal: RunEvent | None = None


def follow(client: Conductor, run_id: str, session: Session) -> int:
    """Shows the run's events until its end; Ctrl-C offers to cancel it or to detach."""
    renderer = _renderer(run_id, session)
    position = _Position()
    cancel_sent = False
    try:
        while not _stream(client, run_id, renderer, position):
            if cancel_sent or not _confirm_cancel():
                return _detach(run_id)
            _cancel(client, run_id)
            cancel_sent = True
            _resume(renderer)
    finally:
        renderer.close()
    return _exit_code(client, run_id, position.terminal)


def _stream(client: Conductor, run_id: str, renderer: Renderer, position: _Position) -> bool:
    """Renders events up to the terminal one; False when Ctrl-C interrupted it."""
    try:
        for event in client.runs.stream(run_id, after=position.after):
            renderer.handle(event)
            position.after = event.seq
            if event.is_terminal:
                position.terminal = event
                break
    except KeyboardInterrupt:
        renderer.pause()
        return False
    return True


def _renderer(run_id: str, session: Session) -> Renderer:
    if session.json:
        return JsonRenderer()
    if session.plain:
        return PlainRenderer(run_id)
    return LiveRenderer(run_id, session.console)


def _resume(renderer: Renderer) -> None:
    if isinstance(renderer, LiveRenderer):
        renderer.resume()


def _confirm_cancel() -> bool:
    sys.stderr.write("\ncancel the run? [y/N] ")
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline()
    except (KeyboardInterrupt, OSError):
        return False
    return answer.strip().lower() in {"y", "yes"}


def _cancel(client: Conductor, run_id: str) -> None:
    try:
        client.runs.cancel(run_id)
    except APIError as exc:
        if exc.status_code != 409:  # 409: it finished meanwhile; its end is in the stream
            raise
    print("cancelling…", file=sys.stderr)


def _detach(run_id: str) -> int:
    print(
        f"\ndetached; the run goes on. Follow it again with: conductor runs follow {run_id}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _exit_code(client: Conductor, run_id: str, terminal: RunEvent | None) -> int:
    if terminal is not None:
        return EXIT_FOR_EVENT.get(terminal.event, EXIT_FAILED)
    status = str(client.runs.get(run_id).get("status", ""))
    print(f"error: the event stream ended before the run did (status {status})", file=sys.stderr)
    return EXIT_FOR_STATUS.get(status, EXIT_ERROR)


# -- runs, runs show ---------------------------------------------------------------------------


def cmd_runs(args: argparse.Namespace, session: Session) -> int:
    filters = {key: value for key, value in {"agent": args.agent}.items() if value}
    runs = session.client().runs.list(status=args.status, limit=args.limit, **filters)
    if session.json:
        session.print_json(runs)
        return EXIT_OK
    headers = ["id", "agent", "status", "created", "duration", "tokens", "cost", "input"]
    print_table(session.console, headers, [_run_row(run) for run in runs], plain=session.plain)
    return EXIT_OK


def _run_row(run: dict[str, Any]) -> list[str]:
    return [
        str(run.get("id", "")),
        str(run.get("agent", "")),
        str(run.get("status", "")),
        local_time(run.get("created_at")),
        format_duration(run["duration_ms"]) if run.get("duration_ms") is not None else "",
        f"{int(run.get('total_tokens') or 0):,}",
        format_cost(to_decimal(run.get("cost_usd"))),
        shorten(str(run.get("input", "")), 40),
    ]


def local_time(value: Any) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def cmd_runs_show(args: argparse.Namespace, session: Session) -> int:
    run = session.client().runs.get(args.run_id)
    if session.json:
        session.print_json(run)
        return EXIT_OK
    console = session.console
    print_details(console, _run_details(run))
    if run.get("result"):
        console.out(f"\nresult:\n{run['result']}", highlight=False)
    if run.get("error"):
        console.out(f"\nerror:\n{run['error']}", highlight=False)
    _print_section(console, "steps", ["#", "kind", "what", "tokens", "cost", "time"], [
        _step_row(step) for step in run.get("steps") or []
    ], plain=session.plain)  # fmt: skip
    _print_section(console, "approvals", ["id", "tool", "arguments", "status", "by", "reason"], [
        _approval_row(approval) for approval in run.get("approvals") or []
    ], plain=session.plain)  # fmt: skip
    return EXIT_OK


def _run_details(run: dict[str, Any]) -> list[tuple[str, str]]:
    tokens = (
        f"{int(run.get('prompt_tokens') or 0):,} in, {int(run.get('completion_tokens') or 0):,} out"
    )
    duration = run.get("duration_ms")
    return [
        ("run", str(run.get("id", ""))),
        ("agent", str(run.get("agent", ""))),
        ("status", str(run.get("status", ""))),
        ("model", str(run.get("model", ""))),
        ("created", f"{local_time(run.get('created_at'))} by {run.get('created_by') or '?'}"),
        ("duration", format_duration(duration) if duration is not None else "-"),
        ("tokens", tokens),
        ("cost", format_cost(to_decimal(run.get("cost_usd")))),
        ("cwd", str(run.get("cwd") or "-")),
        ("input", shorten(str(run.get("input", "")), 200)),
    ]


def _print_section(
    console: Console, title: str, headers: list[str], rows: list[list[str]], *, plain: bool
) -> None:
    console.out(f"\n{title} ({len(rows)})", highlight=False)
    if rows:
        print_table(console, headers, rows, plain=plain)


def _step_row(step: dict[str, Any]) -> list[str]:
    tokens = int(step.get("prompt_tokens") or 0) + int(step.get("completion_tokens") or 0)
    latency = step.get("latency_ms")
    return [
        str(step.get("index", "")),
        str(step.get("kind", "")),
        step_summary(str(step.get("kind", "")), step.get("payload") or {}),
        f"{tokens:,}" if tokens else "",
        format_cost(to_decimal(step.get("cost_usd"))) if to_decimal(step.get("cost_usd")) else "",
        format_duration(latency) if latency is not None else "",
    ]


def step_summary(kind: str, payload: dict[str, Any]) -> str:
    if kind == "llm_call":
        calls = [call.get("name", "?") for call in payload.get("tool_calls") or []]
        text = shorten(str(payload.get("content") or ""), 50)
        return " ".join(filter(None, [text, f"→ {', '.join(calls)}" if calls else ""]))
    if kind == "tool_call":
        return f"{payload.get('tool', '?')}({short_args(payload.get('arguments'), 50)})"
    if kind == "tool_result":
        return f"{payload.get('tool', '?')} → {tool_outcome(payload)}"
    if kind == "approval":
        return f"{payload.get('tool', '?')} {payload.get('status', '')}".strip()
    return shorten(str(payload.get("text") or payload), 60)


def _approval_row(approval: dict[str, Any]) -> list[str]:
    return [
        str(approval.get("id", "")),
        str(approval.get("tool", "")),
        short_args(approval.get("arguments"), 40),
        str(approval.get("status", "")),
        str(approval.get("resolved_by") or ""),
        shorten(str(approval.get("reason") or ""), 40),
    ]


# -- approve -----------------------------------------------------------------------------------


def cmd_approve(args: argparse.Namespace, session: Session) -> int:
    decision = "deny" if args.deny else "approve"
    approval = session.client().runs.approve(
        args.run_id, args.approval_id, decision=decision, reason=args.reason
    )
    if session.json:
        session.print_json(approval)
        return EXIT_OK
    status = approval.get("status", decision)
    session.console.out(
        f"approval {args.approval_id} ({approval.get('tool', '?')}): {status}", highlight=False
    )
    return EXIT_OK


# -- the parser and main -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conductor",
        description="Start and follow Conductor runs from a terminal.",
        epilog="exit codes: 0 succeeded, 1 failed, 2 usage/login/API error, 3 cancelled, "
        "4 timed out, 130 interrupted (detached), 141 stdout closed. CONDUCTOR_URL and "
        f"CONDUCTOR_TOKEN override the config saved by `conductor login` ({config_path()}).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    _add_login(commands)
    _add_agents(commands)
    _add_run(commands)
    _add_runs(commands)
    _add_approve(commands)
    return parser


def _json_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")


def _add_login(commands: Any) -> None:
    login = commands.add_parser("login", help="save the server URL and token, after checking them")
    login.add_argument("--url", default=os.environ.get("CONDUCTOR_URL"), help="e.g. http://…:8000")
    login.add_argument("--token", help="an API token (asked for when missing)")
    login.set_defaults(handler=cmd_login)


def _add_agents(commands: Any) -> None:
    agents = commands.add_parser("agents", help="list the agents")
    _json_flag(agents, "the agents")
    agents.set_defaults(handler=cmd_agents)


def _add_run(commands: Any) -> None:
    run = commands.add_parser("run", help="start a run of an agent and follow it live")
    run.add_argument("agent", help="the agent's slug")
    run.add_argument("input", help='what to ask ("-" reads it from stdin)')
    run.add_argument("--screenplay", type=int, help="screenplay id")
    run.add_argument("--conversation", type=int, help="conversation id")
    run.add_argument("--cwd", help="working directory for the agent's tools")
    run.add_argument("--model", help="a litellm model string, instead of the agent's")
    run.add_argument("--timeout", type=int, metavar="SECONDS", help="wall-clock limit")
    run.add_argument("--max-steps", type=int, metavar="N", help="step limit")
    _json_flag(run, "one event envelope per line")
    run.set_defaults(handler=cmd_run)


def _add_runs(commands: Any) -> None:
    runs = commands.add_parser("runs", help="list runs; `runs show ID`, `runs follow ID`")
    runs.add_argument("--status", help="e.g. running, succeeded, failed, requires_approval")
    runs.add_argument("--agent", help="an agent's slug")
    runs.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    _json_flag(runs, "the runs")
    runs.set_defaults(handler=cmd_runs)
    sub = runs.add_subparsers(dest="runs_command", metavar="show|follow")
    show = sub.add_parser("show", help="a run's details, steps and approvals")
    show.add_argument("run_id")
    _json_flag(show, "the run")
    show.set_defaults(handler=cmd_runs_show)
    follow_parser = sub.add_parser("follow", help="follow a run live from its start")
    follow_parser.add_argument("run_id")
    _json_flag(follow_parser, "one event envelope per line")
    follow_parser.set_defaults(handler=cmd_runs_follow)


def _add_approve(commands: Any) -> None:
    approve = commands.add_parser("approve", help="approve (or --deny) a tool call a run waits on")
    approve.add_argument("run_id")
    approve.add_argument("approval_id")
    approve.add_argument("--deny", action="store_true", help="deny instead of approving")
    approve.add_argument("--reason", default="", help="why; a denial's reason reaches the agent")
    _json_flag(approve, "the approval")
    approve.set_defaults(handler=cmd_approve)


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = build_parser().parse_args(argv)
    session = Session(args)
    handler: Callable[[argparse.Namespace, Session], int] = args.handler
    try:
        return handler(args, session)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `conductor run … --json | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        message = error_message(exc, session.url)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR


def error_message(exc: Exception, url: str = "") -> str | None:
    """One line for every error a user can meet; None for a bug, which keeps its traceback."""
    if isinstance(exc, AuthenticationError):
        where = f" by {url}" if url else ""
        return f"the token was refused{where} (401): {LOGIN_HINT}"
    if isinstance(exc, APIError):
        hint = f"; {FLAG_HINTS[exc.code]}" if exc.code in FLAG_HINTS else ""
        return f"{exc.message}{_details(exc.details)} (HTTP {exc.status_code} {exc.code}){hint}"
    if isinstance(exc, ConnectionFailed):
        return f"cannot reach {url or 'the server'}: {exc}"
    if isinstance(exc, ConductorError | UsageError | BrokenConfig | NotLoggedIn):
        return str(exc)
    if isinstance(exc, httpx.HTTPError):  # e.g. a proxy that answers a stream with HTML
        return f"talking to {url or 'the server'} failed: {exc.__class__.__name__}: {exc}"
    return None


def _details(details: Any) -> str:
    if not isinstance(details, dict) or not details:
        return ""
    parts = []
    for field, problems in details.items():
        text = "; ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
        parts.append(f"{field}: {text}")
    return " — " + ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
