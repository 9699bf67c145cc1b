"""The scripted fake LLM (tests/fakes), answering at once, in its own process.

Stateless script, so that any number of runs (and the baseline loop) can share it: a
conversation whose first user message holds ``[bench steps=N]`` gets N-1 calls of the
no-op tool, then a final text; any other conversation gets a final text at once.
Prints ``FAKE_LLM <base_url>`` and serves until terminated.
"""

from __future__ import annotations

import contextlib
import re
import signal
import sys
import threading
from typing import Any

from bench._common import ROOT

STEPS = re.compile(r"\[bench steps=(\d+)\]")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from bench._runs_common import NOOP_TOOL
    from tests.fakes import llm_server as llm

    class Scripted(llm.FakeLLMServer):
        def _take(self, request: Any) -> llm.Reply:
            messages = request.get("messages") or []
            first_user = next((m for m in messages if m.get("role") == "user"), {})
            match = STEPS.search(str(first_user.get("content") or ""))
            steps = int(match.group(1)) if match else 1
            done = sum(1 for m in messages if m.get("role") == "tool")
            if done < steps - 1:
                return llm.tool_call(NOOP_TOOL, {})
            return llm.text("done", chunks=1)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = Scripted().start()
    print("FAKE_LLM", server.base_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
