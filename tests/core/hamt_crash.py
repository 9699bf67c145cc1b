"""CPython gh-148891, reduced: run as ``python -m tests.core.hamt_crash [--guard]``.

A garbage collection that starts inside ``ContextVar.set()`` runs a finalizer (here a
weakref callback, in the suite a closed coroutine's ``finally``) that sets a context
variable too; the outer set then walks a freed tree. Python 3.10 and 3.11 crash with
SIGSEGV within a fraction of a second; with the guard the script prints "survived".
"""

from __future__ import annotations

import contextvars
import gc
import sys
import weakref

from apps.core import gc_guard

storage: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("storage")
victim: contextvars.ContextVar[object] = contextvars.ContextVar("victim")
# Enough variables for a multi-level tree, so that a set allocates nodes (and may collect).
pads = [contextvars.ContextVar[object](f"pad_{i}") for i in range(40)]
refs: list[weakref.ref[object]] = []


class Node:
    other: Node


def on_collected(_ref: weakref.ref[object]) -> None:
    storage.set({})


def make_garbage_cycle() -> None:
    first, second = Node(), Node()
    first.other, second.other = second, first
    refs.append(weakref.ref(first, on_collected))


def main(iterations: int = 1_000_000) -> None:
    if "--guard" in sys.argv:
        gc_guard.install()
    for var in pads:
        var.set(object())
    storage.set({})
    threshold = gc.get_threshold()
    gc.set_threshold(50, 1, 1)  # collect often, so that one starts inside a set
    for i in range(iterations):
        make_garbage_cycle()
        if len(refs) > 10_000:
            del refs[:5_000]
        victim.set(object())
        pads[i % len(pads)].set(object())
    gc.set_threshold(*threshold)
    print("survived")


if __name__ == "__main__":
    main()
