"""One side of bench.orchestration, in a process of its own (its Django settings).

``python -m bench._runs_orch embedded|worker RUNS STEPS`` with the environment set by
bench.orchestration. Prints ``RESULT <json>``: per run, the wall time, the time spent
inside litellm and the steps; and the same for the bare litellm loop (the baseline).

embedded: SQLite file, in-memory channel layer, the run executed in this process by the
    Celery task function (``execute_run``), as the embedded worker thread would.
worker: PostgreSQL and Redis; run_start enqueues, a real Celery worker process executes.
    Wall time is the run's started_at..finished_at; the time inside LLM calls is the sum
    of its llm_call steps' latency_ms (measured in the worker around the pumped call).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

from bench._common import setup_django
from bench._runs_common import AGENT_SLUG, BENCH_USER, register_noop_tool, steps_marker


class LitellmClock:
    """Wraps litellm's entry points; sums the time spent inside them (any thread).

    Also sums, apart, the CPU time of the logging tasks litellm hands its own threads
    after each call (``background``): litellm's work, but outside its entry points.
    """

    def __init__(self, litellm: Any) -> None:
        self.litellm = litellm
        self.inside = 0.0
        self.background = 0.0
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._depth = threading.local()
        self.capture = False
        for name in ("completion", "stream_chunk_builder", "completion_cost"):
            setattr(litellm, name, self._timed(getattr(litellm, name), name))
        self._time_logging_tasks()

    def _time_logging_tasks(self) -> None:
        try:
            from litellm.litellm_core_utils.thread_pool_executor import executor
        except ImportError:  # another litellm: not measured
            return
        submit = executor.submit

        def timed_submit(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            def task(*args: Any, **kwargs: Any) -> Any:
                started = time.thread_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    with self._lock:
                        self.background += time.thread_time() - started

            return submit(task, *args, **kwargs)

        executor.submit = timed_submit  # type: ignore[method-assign]

    def _add(self, seconds: float) -> None:
        with self._lock:
            self.inside += seconds

    def _enter(self) -> bool:
        """True for an outermost call: litellm calls itself (cost inside the stream...)."""
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        return depth == 0

    def _leave(self, outermost: bool, started: float) -> None:
        self._depth.n -= 1
        if outermost:
            self._add(time.perf_counter() - started)

    def _timed(self, fn: Any, name: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if name == "completion" and self.capture:
                self.calls.append(json.loads(json.dumps(kwargs, default=str)))
            outermost, started = self._enter(), time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                self._leave(outermost, started)
            if name == "completion" and kwargs.get("stream"):
                return self._timed_stream(result)
            return result

        return timed

    def _timed_stream(self, stream: Any) -> Any:
        iterator = iter(stream)
        while True:
            outermost, started = self._enter(), time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                self._leave(outermost, started)
            yield item

    def take(self) -> float:
        with self._lock:
            value, self.inside = self.inside, 0.0
        return value

    def take_background(self) -> float:
        with self._lock:
            value, self.background = self.background, 0.0
        return value


def bare_loop(litellm: Any, calls: list[dict[str, Any]]) -> None:
    """The same litellm calls as one run makes, with nothing around them."""
    for kwargs in calls:
        chunks = list(litellm.completion(**kwargs))
        response = litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])
        litellm.completion_cost(completion_response=response, model=kwargs["model"])


def main(mode: str, runs: int, steps: int) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apps.agents.models import Agent
    from apps.runs import services
    from apps.runs.models import Run, RunStatus, RunStep, RunStepKind
    from apps.runs.tasks import execute_run
    from apps.runtime.llm import litellm_module

    call_command("migrate", verbosity=0, interactive=False)
    register_noop_tool()
    from bench._runs_common import SETUP_CODE

    exec(SETUP_CODE.replace("print(", "(lambda *a: None)("), {})  # noqa: S102
    user = get_user_model().objects.get(username=BENCH_USER)
    agent = Agent.objects.get(slug=AGENT_SLUG)
    litellm = litellm_module()
    clock = LitellmClock(litellm)
    request = services.RunRequest(
        agent=agent, input=f"Go. {steps_marker(steps)}", cwd="/srv/bench", max_steps=50
    )

    def inline() -> tuple[float, float, str]:
        run = services.run_start(request=request, actor=user, enqueue=False)
        clock.take()
        clock.take_background()
        started = time.perf_counter()
        execute_run(str(run.pk))
        wall = time.perf_counter() - started
        return wall, clock.take(), str(run.pk)

    def through_worker() -> tuple[float, float, str]:
        run = services.run_start(request=request, actor=user)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = Run.objects.filter(pk=run.pk).values("status", "started_at", "finished_at")[0]
            if row["finished_at"] is not None and row["status"] in {
                RunStatus.SUCCEEDED,
                RunStatus.FAILED,
                RunStatus.TIMED_OUT,
                RunStatus.CANCELLED,
            }:
                break
            time.sleep(0.005)
        else:
            raise RuntimeError(f"run {run.pk} did not finish in 60 s")
        wall = (row["finished_at"] - row["started_at"]).total_seconds()
        return wall, llm_ms(run.pk) / 1000, str(run.pk)

    def llm_ms(run_id: Any) -> float:
        return float(
            sum(
                RunStep.objects.filter(run_id=run_id, kind=RunStepKind.LLM_CALL).values_list(
                    "latency_ms", flat=True
                )
            )
        )

    def check(run_id: str) -> None:
        run = Run.objects.get(pk=run_id)
        llm_steps = RunStep.objects.filter(run_id=run_id, kind=RunStepKind.LLM_CALL).count()
        if run.status != RunStatus.SUCCEEDED or llm_steps != steps:
            raise RuntimeError(f"run {run_id}: {run.status} {run.error!r}, {llm_steps} LLM calls")

    # The exact calls (messages growth, tools, stream options) of one run, for the baseline.
    clock.capture = True
    _, _, first = inline()
    clock.capture = False
    check(first)
    calls = clock.calls[:steps]

    execute = inline if mode == "embedded" else through_worker
    for _ in range(2):  # warm-up
        check(execute()[2])
        bare_loop(litellm, calls)
    clock.take()

    rows: list[dict[str, float]] = []
    baseline: list[dict[str, float]] = []
    for _ in range(runs):  # interleaved: noise hits both sides alike
        wall, inside, run_id = execute()
        background = clock.take_background()
        check(run_id)
        rows.append(
            {
                "wall": wall,
                "llm": inside,
                "llm_steps": llm_ms(run_id) / 1000,
                "llm_background_cpu": background,
            }
        )
        clock.take()
        started = time.perf_counter()
        bare_loop(litellm, calls)
        baseline.append({"wall": time.perf_counter() - started, "llm": clock.take()})
    return {"mode": mode, "steps": steps, "runs": rows, "baseline": baseline}


if __name__ == "__main__":
    _mode, _runs, _steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print("RESULT", json.dumps(main(_mode, _runs, _steps)), flush=True)
