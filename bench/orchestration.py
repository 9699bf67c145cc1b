"""Orchestration overhead per step of a 10-step run (9 no-op tool calls, then an answer).

Overhead per step = (run wall time - time spent inside litellm) / steps, against the
instant fake LLM (its own process). Baseline: a bare loop of the very same litellm calls
(same messages growth, tools and streaming options) to the same server, interleaved with
the runs. Two setups:

- embedded default: SQLite file, in-memory channel layer, run executed in-process by the
  Celery task function; time inside litellm measured by wrapping litellm's entry points.
- Redis + a real Celery worker process (PostgreSQL ``bench_b``, Redis db 15): run wall time
  from started_at..finished_at, LLM time from the llm_call steps' latency_ms.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._common import PRODUCTION_SETTINGS, Result, exit_code, parse_args, summary_ms
from bench._runs_common import (
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    PYTHON,
    WORKER_ARGS,
    base_env,
    children,
    create_bench_database,
    fake_llm_env,
    flush_bench_redis,
    migrate_and_setup,
    plugin_dir,
    spawn,
    start_fake_llm,
)

STEPS = 10
TARGETS_MS = {"embedded": 5.0, "worker": 15.0}
CHILD_TIMEOUT = 240.0


def run_side(
    started: list[Any], mode: str, env: dict[str, str], runs: int, timeout: float
) -> dict[str, Any]:
    child = spawn(
        started,
        f"orch-{mode}",
        [PYTHON, "-m", "bench._runs_orch", mode, str(runs), str(STEPS)],
        env,
    )
    line = child.wait_for_line("RESULT ", timeout=timeout)
    return json.loads(line[len("RESULT ") :])


def per_step_ms(samples: list[dict[str, float]], llm_key: str) -> list[float]:
    return [(s["wall"] - s[llm_key]) / STEPS * 1000 for s in samples]


def main() -> int:
    args = parse_args(__doc__ or "")
    runs = 10 if args.quick else 40
    result = Result("orchestration", quick=args.quick)
    data_dir = Path(tempfile.mkdtemp(prefix="bench-orch-"))
    plugins = plugin_dir()
    sides: dict[str, dict[str, Any]] = {}
    with children() as started:
        fake = start_fake_llm(started)
        llm_env = {**fake_llm_env(fake), **PRODUCTION_SETTINGS}
        embedded_env = base_env(data_dir / "embedded", **llm_env)
        sides["embedded"] = run_side(started, "embedded", embedded_env, runs, CHILD_TIMEOUT)

        create_bench_database()
        flush_bench_redis()
        worker_env = base_env(
            data_dir / "worker",
            **llm_env,
            DATABASE_URL=BENCH_DATABASE_URL,
            REDIS_URL=BENCH_REDIS_URL,
            CONDUCTOR_PLUGIN_DIRS=str(plugins),
        )
        migrate_and_setup(worker_env)
        worker = spawn(started, "celery-worker", [PYTHON, *WORKER_ARGS], worker_env)
        try:
            sides["worker"] = run_side(started, "worker", worker_env, runs, CHILD_TIMEOUT)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- worker ---\n{worker.tail()}") from exc

    for mode, side in sides.items():
        label = "embedded (SQLite, in-process)" if mode == "embedded" else "Redis + Celery worker"
        llm_key = "llm" if mode == "embedded" else "llm_steps"
        overhead = per_step_ms(side["runs"], llm_key)
        base = per_step_ms(side["baseline"], "llm")
        run_step = [s["wall"] / STEPS for s in side["runs"]]
        base_step = [s["wall"] / STEPS for s in side["baseline"]]
        result.add_row(
            setup=label,
            measure="run: wall per step",
            **summary_ms(run_step),
        )
        result.add_row(
            setup=label, measure="bare litellm loop: wall per step", **summary_ms(base_step)
        )
        result.add_row(
            setup=label,
            measure="overhead/step = (wall - in LLM)/steps",
            **dict(_ms(overhead).items()),
        )
        result.add_row(setup=label, measure="bare loop: (wall - in LLM)/steps", **_ms(base))
        diff = statistics.median(run_step) * 1000 - statistics.median(base_step) * 1000
        result.notes.append(
            f"{label}: median run wall/step minus median bare-loop wall/step = {diff:.2f} ms"
            " (a second estimate of the overhead, against the same-run baseline)"
        )
        if mode == "embedded":
            steps_ms = per_step_ms(side["runs"], "llm_steps")
            result.notes.append(
                f"{label}: with LLM time from llm_call latency_ms instead,"
                f" overhead p50 = {statistics.median(steps_ms):.2f} ms/step"
            )
            background = [s["llm_background_cpu"] / STEPS * 1000 for s in side["runs"]]
            result.notes.append(
                f"{label}: litellm's logging threads used p50"
                f" {statistics.median(background):.2f} ms CPU/step after its calls returned;"
                " counted as overhead above, as it takes the GIL from the run's thread"
            )
        result.target(
            f"{mode}: overhead per step p50",
            round(statistics.median(overhead), 2),
            "<=",
            TARGETS_MS[mode],
            " ms",
        )
    result.notes.append(
        "DEBUG off in both setups, as in production (DEBUG on keeps Django's query log:"
        " about 0.7 ms a step more embedded, measured on this machine)"
    )
    result.notes.append(
        f"{STEPS}-step runs (9 no-op tool calls + final answer), {runs} runs per setup after"
        " 2 warm-up runs; the fake LLM runs in its own process and answers at once."
    )
    result.save_and_print()
    return exit_code(result)


def _ms(values: list[float]) -> dict[str, float]:
    return summary_ms([v / 1000 for v in values])


if __name__ == "__main__":
    sys.exit(main())
