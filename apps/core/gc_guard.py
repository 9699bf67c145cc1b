"""Runs Python's cyclic garbage collector on a thread of its own (Python < 3.12 only).

CPython 3.10 and 3.11 crash with a segmentation fault when a garbage collection
starts inside ``ContextVar.set()`` and a finalizer it runs sets a context variable
too: the inner set frees the tree the outer set is still walking (CPython
gh-148891). Finalizers that set context variables are common here: asgiref's
``sync_to_async`` restores its context in a ``finally`` block, which runs when the
collector closes an abandoned coroutine. The collection is triggered by whatever
allocation crosses the threshold, so the crash strikes at random, in any thread.

The guard turns the automatic collector off and collects from a dedicated thread
instead, on the same thresholds, checked every ``interval`` seconds. A collection
then never starts inside ``ContextVar.set()``, and finalizers change only the
collector thread's own context. Python 3.12 changed when the collector runs and is
not affected, so there the guard does nothing.

Full collections need one more rule. CPython's own collector skips one until the
objects that survived younger collections since the last full one add up to a quarter
of the oldest generation; without that, a process holding many objects (a server with
thousands of open streams) spends most of its idle time walking them. ``gc`` does not
expose those counts, so full collections are paced by their own cost instead: after one
that took ``d`` seconds the next waits at least ``FULL_COLLECTION_SPACING * d``, which
keeps them under ``1 / FULL_COLLECTION_SPACING`` of a core.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time

logger = logging.getLogger(__name__)

AFFECTED = sys.version_info < (3, 12)
THREAD_NAME = "gc-collector"
DEFAULT_INTERVAL = 0.01
FULL_COLLECTION_SPACING = 100

_lock = threading.Lock()
_interval = DEFAULT_INTERVAL
_thread: threading.Thread | None = None
_stop = threading.Event()
_fork_hook_registered = False


def due_generation(*, full_allowed: bool = True) -> int | None:
    """The generation the automatic collector would collect now, or None.

    Without ``full_allowed``, a due full collection waits and a younger one runs.
    """
    counts = gc.get_count()
    thresholds = gc.get_threshold()
    if thresholds[0] == 0 or counts[0] <= thresholds[0]:
        return None
    if counts[2] > thresholds[2] and full_allowed:
        return 2
    return 1 if counts[1] > thresholds[1] else 0


def _collect_forever(stop: threading.Event, interval: float) -> None:
    next_full_at = 0.0
    while not stop.wait(interval):
        if gc.isenabled():
            # Something turned the automatic collector back on: that reopens the crash.
            gc.disable()
            logger.warning("the automatic garbage collector was re-enabled; disabled it again")
        generation = due_generation(full_allowed=time.monotonic() >= next_full_at)
        if generation is None:
            continue
        started = time.monotonic()
        gc.collect(generation)
        if generation == 2:
            finished = time.monotonic()
            next_full_at = finished + FULL_COLLECTION_SPACING * (finished - started)


def _start() -> None:
    global _thread
    _stop.clear()
    gc.disable()
    _thread = threading.Thread(
        target=_collect_forever, args=(_stop, _interval), name=THREAD_NAME, daemon=True
    )
    _thread.start()


def _restart_in_child() -> None:
    # Threads do not survive fork(): a forked worker (Celery's prefork pool) needs
    # its own collector, or its garbage cycles would never be collected.
    global _lock, _stop
    _lock = threading.Lock()
    _stop = threading.Event()
    if _thread is not None:
        _start()


def install(interval: float = DEFAULT_INTERVAL) -> bool:
    """Moves garbage collection onto the collector thread; True if the guard is running."""
    global _interval, _fork_hook_registered
    if not AFFECTED:
        return False
    with _lock:
        if _thread is not None and _thread.is_alive():
            return True
        _interval = interval
        _start()
        if not _fork_hook_registered:
            os.register_at_fork(after_in_child=_restart_in_child)
            _fork_hook_registered = True
    return True


def uninstall() -> None:
    """Stops the collector thread and gives collection back to the interpreter."""
    global _thread
    with _lock:
        if _thread is None:
            return
        _stop.set()
        _thread.join()
        _thread = None
        gc.enable()


def running() -> bool:
    return _thread is not None and _thread.is_alive()
