"""The collector thread that keeps Python 3.11 from crashing (apps/core/gc_guard.py)."""

from __future__ import annotations

import gc
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

from apps.core import gc_guard

pytestmark = pytest.mark.skipif(
    not gc_guard.AFFECTED, reason="Python 3.12+ does not have CPython gh-148891"
)
ROOT = Path(__file__).resolve().parents[2]


def no_core_dump() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_crash_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.core.hamt_crash", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=no_core_dump,  # the crash is expected: leave no core file behind
    )


class Collected:
    """A garbage cycle that records which thread collected it."""

    def __init__(self) -> None:
        self.thread_name: str | None = None
        self.done = threading.Event()

    def make(self) -> None:
        first: dict[str, object] = {}
        second: dict[str, object] = {"first": first}
        first["second"] = second

        class Cycle:
            pass

        node = Cycle()
        node.self = node  # type: ignore[attr-defined]
        self._ref = weakref.ref(node, self._collected)

    def _collected(self, _ref: object) -> None:
        self.thread_name = threading.current_thread().name
        self.done.set()


def allocations_past_the_threshold() -> list[list[object]]:
    """Enough live tracked objects to make the youngest generation due for collection."""
    return [[] for _ in range(gc.get_threshold()[0] * 2)]


def test_the_crash_is_real_and_the_guard_prevents_it():
    # The crash depends on when collections happen to start: a few tries make it certain.
    unguarded = [run_crash_script() for _ in range(3)]
    if all(result.returncode == 0 for result in unguarded):
        pytest.skip("this interpreter survives gh-148891 without the guard")
    assert -signal.SIGSEGV in [result.returncode for result in unguarded]

    for _ in range(3):
        guarded = run_crash_script("--guard")

        assert guarded.returncode == 0, guarded.stderr
        assert guarded.stdout.strip() == "survived"


def test_django_start_up_moves_collection_onto_the_collector_thread():
    assert gc_guard.running()
    assert not gc.isenabled()
    cycle = Collected()
    cycle.make()
    allocations = allocations_past_the_threshold()

    assert cycle.done.wait(5), "the garbage cycle was never collected"
    assert cycle.thread_name == gc_guard.THREAD_NAME
    del allocations


def test_the_automatic_collector_is_turned_off_again_if_something_enables_it():
    gc.enable()
    deadline = time.monotonic() + 5
    while gc.isenabled() and time.monotonic() < deadline:
        time.sleep(0.01)

    assert not gc.isenabled()
    assert gc_guard.running()


def test_a_forked_child_collects_on_a_collector_thread_of_its_own():
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        status = 1
        try:
            cycle = Collected()
            cycle.make()
            allocations = allocations_past_the_threshold()
            if cycle.done.wait(5) and cycle.thread_name == gc_guard.THREAD_NAME:
                status = 0
            del allocations
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0


def full_collections(seconds: float) -> tuple[int, float]:
    """How many full collections ran in ``seconds`` of garbage-making, and the share of the
    time all but the first of them took, on a heap of a million extra objects (what a
    server holding thousands of streams carries).

    The first is left out: it may be the first since a pause longer than its pacing asks
    for, and in a long test session it walks everything the earlier tests left (~1 s).
    """
    heap = [[] for _ in range(1_000_000)]
    durations: list[float] = []
    started: list[float] = []

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            durations.append(time.perf_counter() - started.pop())

    gc.callbacks.append(on_collection)
    try:
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            for _ in range(1000):
                cycle: list[object] = []
                cycle.append(cycle)  # garbage only the collector frees
            time.sleep(0.001)
        elapsed = time.perf_counter() - began
    finally:
        gc.callbacks.remove(on_collection)
    del heap
    return len(durations), sum(durations[1:]) / elapsed


def test_full_collections_are_paced_by_their_cost():
    # Without pacing, a full collection runs whenever its count comes due, every second
    # or two here, each walking the whole heap: 7-20% of the time after the first. Paced,
    # the next waits 100 times as long as the last took: at most 1% of the time.
    count, share = full_collections(6.0)

    assert share < 0.03, f"{count} full collections took {share:.0%} of the time"
