"""Model calls through the gateway: their helper threads and litellm's callbacks."""

from __future__ import annotations

import threading
import time
from typing import Any

from apps.runtime.llm import CallControl, LLMCall, LLMReply, complete, litellm_module
from tests.fakes import llm_server as llm

MODEL = "gpt-4o-mini"


def _call(text: str) -> LLMReply:
    control = CallControl(
        on_delta=lambda delta: None,
        should_stop=lambda: False,
        deadline=time.monotonic() + 30,
        poll_seconds=0.05,
    )
    call = LLMCall(model=MODEL, messages=[{"role": "user", "content": text}], num_retries=0)
    return complete(call, fallbacks=[], control=control)


def _helper_threads() -> int:
    return sum(thread.name == "llm-stream" for thread in threading.enumerate())


def test_calls_one_after_another_share_a_helper_thread(fake_llm):
    fake_llm.script(llm.text("one"), llm.text("two"), llm.text("three"))
    before = _helper_threads()

    replies = [_call(text).content for text in ("a", "b", "c")]

    assert replies == ["one", "two", "three"]
    assert _helper_threads() <= max(before, 1)


def test_a_litellm_success_callback_still_hears_of_streamed_calls(fake_llm, monkeypatch):
    litellm = litellm_module()
    heard: list[str] = []

    def callback(kwargs: dict[str, Any], response: Any, start: Any, end: Any) -> None:
        heard.append(response.choices[0].message.content)

    monkeypatch.setattr(litellm, "success_callback", [callback])
    fake_llm.script(llm.text("streamed answer", chunks=3))

    assert _call("hi").content == "streamed answer"
    deadline = time.monotonic() + 10
    while not heard and time.monotonic() < deadline:  # litellm calls back from a thread
        time.sleep(0.02)
    assert heard == ["streamed answer"]
