"""How the `conductor` command shows a run: folded tool lines, a progress line, three renderers.

- ``LiveRenderer``: a terminal; a spinner with the progress line, the LLM text as it streams,
  one line per tool call, then the answer.
- ``PlainRenderer``: stdout is a pipe or a file; the same content with no colour and no spinner.
- ``JsonRenderer``: ``--json``; one event envelope per line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TextIO

from rich.cells import cell_len
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from conductor_client import RunEvent

ARGS_WIDTH = 60
ERROR_WIDTH = 80


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def short_args(arguments: Any, width: int = ARGS_WIDTH) -> str:
    """``key=value`` pairs on one line, cut to ``width`` characters."""
    if isinstance(arguments, dict):
        parts = [
            f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in arguments.items()
        ]
        return shorten(", ".join(parts), width)
    if arguments in (None, ""):
        return ""
    return shorten(json.dumps(arguments, ensure_ascii=False, default=str), width)


def format_duration(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "?"
    if milliseconds < 1000:
        return f"{int(milliseconds)} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def to_decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def format_cost(cost: Decimal) -> str:
    """Four decimals, or six for a cost that four would show as zero."""
    return f"${cost:.6f}" if 0 < cost < Decimal("0.0001") else f"${cost:.4f}"


def tool_outcome(result: dict[str, Any]) -> str:
    duration = format_duration(result.get("duration_ms"))
    if result.get("success"):
        return f"ok ({duration})"
    return f"error: {shorten(str(result.get('error') or 'failed'), ERROR_WIDTH)} ({duration})"


def tool_line(called: dict[str, Any], result: dict[str, Any] | None = None) -> str:
    """One line for a tool call: name, short arguments, then ok or the error, and the duration."""
    line = f"{called.get('tool', '?')}({short_args(called.get('arguments'))})"
    return f"{line} …" if result is None else f"{line} → {tool_outcome(result)}"


@dataclass
class RunProgress:
    """What the progress line reports, updated event by event."""

    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal = field(default_factory=lambda: Decimal(0))
    tool_calls: int = 0
    activity: str = "queued"

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def apply(self, event: RunEvent) -> None:
        data = event.data or {}
        if event.event == "run.started":
            self.activity = "thinking"
        elif event.event == "llm.completed":
            self.steps += 1
            self.prompt_tokens += int(data.get("prompt_tokens") or 0)
            self.completion_tokens += int(data.get("completion_tokens") or 0)
            self.cost += to_decimal(data.get("cost_usd"))
            self.activity = "thinking"
        elif event.event == "tool.called":
            self.tool_calls += 1
            self.activity = f"running {data.get('tool', 'a tool')}"
        elif event.event == "tool.result":
            self.activity = "thinking"
        elif event.event == "approval.required":
            self.activity = f"waiting for approval of {data.get('tool', 'a tool')}"
        elif event.is_terminal:
            self.activity = event.event.removeprefix("run.").replace("_", " ")

    def line(self) -> str:
        step = "step" if self.steps == 1 else "steps"
        return (
            f"{self.activity} · {self.steps} {step} · {self.tokens:,} tokens · "
            f"{format_cost(self.cost)}"
        )


def approval_lines(run_id: str, data: dict[str, Any]) -> list[str]:
    approval_id = data.get("approval_id", "?")
    return [
        f"approval needed: {data.get('tool', '?')}({short_args(data.get('arguments'))})",
        f"  approve: conductor approve {run_id} {approval_id}",
        f"  deny:    conductor approve {run_id} {approval_id} --deny --reason '…'",
    ]


def resolved_line(data: dict[str, Any]) -> str:
    reason = f": {data['reason']}" if data.get("reason") else ""
    return f"approval {data.get('decision', data.get('status', '?'))}{reason}"


def outcome_line(event: RunEvent, progress: RunProgress) -> str:
    data = event.data or {}
    status = event.event.removeprefix("run.").replace("_", " ")
    step = "step" if progress.steps == 1 else "steps"
    return (
        f"{status} in {format_duration(data.get('duration_ms'))} · {progress.steps} {step} · "
        f"{progress.tokens:,} tokens · {format_cost(progress.cost)}"
    )


class Renderer(Protocol):
    def handle(self, event: RunEvent) -> None: ...

    def pause(self) -> None: ...

    def close(self) -> None: ...


class JsonRenderer:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def handle(self, event: RunEvent) -> None:
        envelope = {
            "id": event.seq,
            "run_id": event.run_id,
            "event": event.event,
            "data": event.data,
            "timestamp": event.timestamp,
        }
        self.out.write(json.dumps(envelope, ensure_ascii=False) + "\n")
        self.out.flush()

    def pause(self) -> None:
        pass

    def close(self) -> None:
        pass


class _TextRenderer:
    """What the plain and live renderers share: which event prints which line."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.progress = RunProgress()
        self.calls: dict[str, dict[str, Any]] = {}
        self.streaming = False

    def handle(self, event: RunEvent) -> None:
        self.progress.apply(event)
        data = event.data or {}
        if event.event == "llm.delta":
            self.delta(str(data.get("text", "")))
            return
        self.end_text()
        if event.event == "run.queued":
            self.note(f"run {event.run_id} queued: agent {data.get('agent')}, {data.get('model')}")
        elif event.event == "tool.called":
            self.calls[str(data.get("id"))] = data
        elif event.event == "tool.result":
            called = self.calls.pop(str(data.get("id")), data)
            self.tool(tool_line(called, data), ok=bool(data.get("success")))
        elif event.event == "approval.required":
            self.warn(approval_lines(event.run_id, data))
        elif event.event == "approval.resolved":
            self.note(resolved_line(data))
        elif event.is_terminal:
            self.finish(event)
        self.refresh()

    def delta(self, text: str) -> None:
        raise NotImplementedError

    def end_text(self) -> None:
        raise NotImplementedError

    def note(self, line: str) -> None:
        raise NotImplementedError

    def tool(self, line: str, *, ok: bool) -> None:
        raise NotImplementedError

    def warn(self, lines: list[str]) -> None:
        raise NotImplementedError

    def finish(self, event: RunEvent) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        pass


class PlainRenderer(_TextRenderer):
    """No spinner and no colour: for pipes, files and dumb terminals."""

    def __init__(self, run_id: str, out: TextIO | None = None) -> None:
        super().__init__(run_id)
        self.out = out or sys.stdout

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def delta(self, text: str) -> None:
        self.streaming = True
        self._write(text)

    def end_text(self) -> None:
        if self.streaming:
            self._write("\n")
            self.streaming = False

    def note(self, line: str) -> None:
        self._write(f"· {line}\n")

    def tool(self, line: str, *, ok: bool) -> None:
        self._write(f"{'✓' if ok else '✗'} {line}\n")

    def warn(self, lines: list[str]) -> None:
        self._write("! " + "\n".join(lines) + "\n")

    def finish(self, event: RunEvent) -> None:
        data = event.data or {}
        self._write(f"· {outcome_line(event, self.progress)}\n")
        if event.event == "run.succeeded":
            self._write(f"\n{data.get('result', '')}\n")
        elif data.get("error"):
            self._write(f"\nerror: {data['error']}\n")

    def pause(self) -> None:
        self.end_text()

    def close(self) -> None:
        self.end_text()


class LiveRenderer(_TextRenderer):
    """A terminal: finished lines scroll above a spinner that shows the progress line.

    Streamed text is printed line by line; the unfinished line shows under the spinner.
    """

    def __init__(self, run_id: str, console: Console) -> None:
        super().__init__(run_id)
        self.console = console
        self.partial = ""
        self.spinner = Spinner("dots", text=self._status())
        self.live = Live(self.spinner, console=console, transient=True, refresh_per_second=12)
        self.live.start()

    def _status(self) -> Text:
        status = Text(self.progress.line(), style="cyan")
        if self.partial:
            status.append("  " + shorten(self.partial, 60), style="dim")
        return status

    def refresh(self) -> None:
        self.spinner.update(text=self._status())

    def delta(self, text: str) -> None:
        self.streaming = True
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.console.print(Text(line), soft_wrap=True)
        self.refresh()

    def end_text(self) -> None:
        if self.partial:
            self.console.print(Text(self.partial), soft_wrap=True)
        self.partial = ""
        self.streaming = False

    def note(self, line: str) -> None:
        self.console.print(Text(f"· {line}", style="dim"))

    def tool(self, line: str, *, ok: bool) -> None:
        mark = "[green]✓[/]" if ok else "[red]✗[/]"
        self.console.print(f"{mark} [bold]{escape(line)}[/]")

    def warn(self, lines: list[str]) -> None:
        self.console.print(Text("\n".join(lines), style="yellow"))

    def finish(self, event: RunEvent) -> None:
        data = event.data or {}
        succeeded = event.event == "run.succeeded"
        style = "green" if succeeded else "red"
        self.console.print(Text(outcome_line(event, self.progress), style=f"bold {style}"))
        if succeeded:
            self.console.rule("answer", style="dim")
            self.console.print(Text(str(data.get("result", ""))))
        elif data.get("error"):
            self.console.print(Text(f"error: {data['error']}", style="red"))

    def pause(self) -> None:
        self.end_text()
        self.live.stop()

    def resume(self) -> None:
        self.live.start()

    def close(self) -> None:
        self.end_text()
        self.live.stop()


def make_console(*, plain: bool, stderr: bool = False) -> Console:
    """``plain``: no colour, no cursor moves and no wrapping, whatever the environment says."""
    file = sys.stderr if stderr else sys.stdout
    if plain:
        return Console(
            file=file,
            force_terminal=False,
            no_color=True,
            color_system=None,
            highlight=False,
            emoji=False,
            soft_wrap=True,
        )
    return Console(file=file, highlight=False)


def print_table(
    console: Console, headers: Sequence[str], rows: Sequence[Sequence[str]], *, plain: bool
) -> None:
    """Plain tables are aligned columns that survive a pipe (no truncation, no box)."""
    if plain:
        widths = [max(cell_len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
        for row in [list(headers), *rows]:
            cells = [
                cell + " " * (width - cell_len(cell))
                for cell, width in zip(row, widths, strict=True)
            ]
            console.out("  ".join(cells).rstrip(), highlight=False)
        return
    table = Table(*headers, header_style="bold", box=None, pad_edge=False)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)


def print_details(console: Console, pairs: Sequence[tuple[str, str]]) -> None:
    """``label  value`` lines, labels aligned."""
    width = max((len(label) for label, _ in pairs), default=0)
    for label, value in pairs:
        console.out(f"{label.ljust(width)}  {value}", highlight=False)
