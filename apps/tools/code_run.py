"""The ``code_run`` tool: Python or JavaScript in the subprocess sandbox of ``sandbox.py``."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult
from apps.tools.sandbox import (
    Limits,
    SandboxOutcome,
    SandboxRequest,
    SandboxUnavailable,
    find_interpreter,
    run_sandboxed,
)

LANGUAGES = ("python", "javascript")
MAX_CODE_BYTES = 100_000
MAX_STDIN_BYTES = 1_000_000
MAX_TIMEOUT_SECONDS = 60

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "enum": list(LANGUAGES)},
        "code": {"type": "string", "description": "The program, at most 100 KB."},
        "stdin": {"type": "string", "description": "Text given on standard input."},
        "timeout": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_TIMEOUT_SECONDS,
            "description": "Wall-clock seconds before the program is killed.",
        },
    },
    "required": ["language", "code"],
    "additionalProperties": False,
}


class InvalidCodeRunArguments(ValueError):
    pass


@dataclass(frozen=True)
class CodeRunArguments:
    language: str
    code: str
    stdin: str
    timeout: float


def parse_arguments(arguments: dict[str, Any], default_timeout: float) -> CodeRunArguments:
    language = arguments.get("language")
    if language not in LANGUAGES:
        raise InvalidCodeRunArguments(f"language must be one of {', '.join(LANGUAGES)}.")
    code = _text(arguments, "code", MAX_CODE_BYTES, required=True)
    stdin = _text(arguments, "stdin", MAX_STDIN_BYTES, required=False)
    return CodeRunArguments(language, code, stdin, _timeout(arguments, default_timeout))


def _text(arguments: dict[str, Any], name: str, max_bytes: int, *, required: bool) -> str:
    value = arguments.get(name, None if required else "")
    if not isinstance(value, str):
        raise InvalidCodeRunArguments(f"{name} must be a string.")
    if len(value.encode()) > max_bytes:
        raise InvalidCodeRunArguments(f"{name} must be at most {max_bytes} bytes.")
    return value


def _timeout(arguments: dict[str, Any], default: float) -> float:
    value = arguments.get("timeout", default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidCodeRunArguments("timeout must be a number of seconds.")
    if not 0 < value <= MAX_TIMEOUT_SECONDS:
        raise InvalidCodeRunArguments(f"timeout must be above 0 and at most {MAX_TIMEOUT_SECONDS}.")
    return float(value)


def interpreter_argv(language: str, code: str, memory_mb: int) -> list[str]:
    if language == "python":
        return [find_interpreter("python3"), "-I", "-S", "-B", "-c", code]
    # V8's JIT reserves more address space than RLIMIT_AS allows; the interpreter fits.
    flags = ["--jitless", "--no-expose-wasm", f"--max-old-space-size={memory_mb // 2}"]
    return [find_interpreter("node"), *flags, "-e", code]


def sandbox_request(args: CodeRunArguments) -> SandboxRequest:
    memory_mb = settings.CONDUCTOR_CODE_RUN_MEMORY_MB
    return SandboxRequest(
        argv=interpreter_argv(args.language, args.code, memory_mb),
        limits=Limits(
            memory_bytes=memory_mb * 1024 * 1024, cpu_seconds=math.ceil(args.timeout) + 1
        ),
        timeout=args.timeout,
        stdin=args.stdin,
        require_netns=settings.CONDUCTOR_CODE_RUN_REQUIRE_NETNS,
    )


def outcome_result(outcome: SandboxOutcome, timeout: float) -> ToolResult:
    if outcome.timed_out:
        error: str | None = f"The code was killed after the {timeout:g} s timeout."
    elif outcome.exit_code != 0:
        error = f"The code exited with status {outcome.exit_code}."
    else:
        error = None
    return ToolResult(
        success=error is None, result=asdict(outcome), error=error, duration_ms=outcome.duration_ms
    )


class CodeRunTool(BaseTool):
    definition = ToolDefinition(
        name="code_run",
        description=(
            "Run a short Python or JavaScript program in a sandbox without network access, "
            "in an empty temporary directory, with limits on memory, CPU time, processes "
            "and file size. Returns stdout, stderr (each capped at 20 KB), exit_code and "
            "timed_out."
        ),
        parameters=PARAMETERS,
        category=ToolCategory.CODE,
        requires_approval=False,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        try:
            args = parse_arguments(arguments, settings.CONDUCTOR_CODE_RUN_TIMEOUT)
            outcome = await run_sandboxed(sandbox_request(args))
        except (InvalidCodeRunArguments, SandboxUnavailable) as exc:
            return ToolResult(success=False, error=str(exc))
        return outcome_result(outcome, args.timeout)
