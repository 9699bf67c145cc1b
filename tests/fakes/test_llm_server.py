from __future__ import annotations

import json
import threading
import time
from types import ModuleType

import httpx
import pytest

from tests.fakes.llm_server import (
    NO_REPLY_LEFT,
    FakeLLMServer,
    error,
    malformed,
    raw_http,
    slow,
    text,
    tool_call,
    tool_calls,
)

MODEL = "gpt-4o-mini"
HELLO = [{"role": "user", "content": "Say hello to the council"}]
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
}


@pytest.fixture
def litellm(fake_llm: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Imported late: fake_llm has set LITELLM_LOCAL_MODEL_COST_MAP, and the import is slow."""
    import litellm

    monkeypatch.setattr(litellm, "suppress_debug_info", True)
    return litellm


def test_it_answers_plain_text(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(text("Hello, council."))
    response = litellm.completion(model=MODEL, messages=HELLO)
    assert response.choices[0].message.content == "Hello, council."
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.total_tokens == 5 + 2


def test_it_prices_a_reply_from_its_usage(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(text("Hi.", usage={"prompt_tokens": 1000, "completion_tokens": 500}))
    response = litellm.completion(model=MODEL, messages=HELLO)
    assert response.usage.total_tokens == 1500
    assert litellm.completion_cost(completion_response=response) > 0


def test_it_reaches_an_unknown_openai_model(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(text("Still me."))
    response = litellm.completion(model="openai/some-unknown-model", messages=HELLO)
    assert response.choices[0].message.content == "Still me."
    assert fake_llm.requests[0]["model"] == "some-unknown-model"


def test_it_streams_text_that_reassembles_with_usage(
    fake_llm: FakeLLMServer,
    litellm: ModuleType,
) -> None:
    fake_llm.script(text("Hello there, dear council of agents.", chunks=5))
    stream = litellm.completion(
        model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(deltas) >= 5
    assert "".join(deltas) == "Hello there, dear council of agents."
    rebuilt = litellm.stream_chunk_builder(chunks, messages=HELLO)
    assert rebuilt.choices[0].message.content == "Hello there, dear council of agents."
    assert (rebuilt.usage.prompt_tokens, rebuilt.usage.completion_tokens) == (5, 6)


def test_it_returns_a_native_tool_call(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(tool_call("search", {"q": "weather in Oslo"}, call_id="call_1"))
    response = litellm.completion(model=MODEL, messages=HELLO, tools=[SEARCH_TOOL])
    (call,) = response.choices[0].message.tool_calls
    assert response.choices[0].finish_reason == "tool_calls"
    assert (call.id, call.function.name) == ("call_1", "search")
    assert json.loads(call.function.arguments) == {"q": "weather in Oslo"}


def test_it_streams_tool_calls_intact(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(tool_calls([("search", {"q": "Oslo weather"}), ("read", {"path": "/a b"})]))
    chunks = list(litellm.completion(model=MODEL, messages=HELLO, stream=True))
    message = litellm.stream_chunk_builder(chunks, messages=HELLO).choices[0].message
    calls = [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls]
    assert calls == [("search", {"q": "Oslo weather"}), ("read", {"path": "/a b"})]


def test_it_returns_malformed_content_as_is(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(malformed())
    response = litellm.completion(model=MODEL, messages=HELLO)
    assert response.choices[0].message.content == '{"thought": "x", "action": {"tool": '


def test_it_fails_cleanly_on_a_broken_http_body(
    fake_llm: FakeLLMServer,
    litellm: ModuleType,
) -> None:
    from openai import APIError

    fake_llm.script(raw_http(200, b'{"id": "chatcmpl-1", "choices": [', "application/json"))
    with pytest.raises(APIError):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)


def test_it_recovers_from_a_rate_limit_on_retry(
    fake_llm: FakeLLMServer,
    litellm: ModuleType,
) -> None:
    fake_llm.script(error(429, "Slow down", retry_after=0.1), text("Recovered."))
    response = litellm.completion(model=MODEL, messages=HELLO, num_retries=1)
    assert response.choices[0].message.content == "Recovered."
    assert len(fake_llm.requests) == 2


def test_it_surfaces_a_server_error_with_its_message(
    fake_llm: FakeLLMServer,
    litellm: ModuleType,
) -> None:
    fake_llm.script(error(500, "The engine melted"))
    with pytest.raises(litellm.InternalServerError, match="The engine melted"):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)


def test_it_times_out_promptly_on_a_slow_reply(
    fake_llm: FakeLLMServer,
    litellm: ModuleType,
) -> None:
    fake_llm.script(slow(10, text("Too late.")))
    started = time.monotonic()
    with pytest.raises(litellm.Timeout):
        litellm.completion(model=MODEL, messages=HELLO, timeout=0.5, num_retries=0)
    assert time.monotonic() - started < 3


def test_it_answers_500_when_the_script_is_empty(
    fake_llm: FakeLLMServer,
    litellm: ModuleType,
) -> None:
    with pytest.raises(litellm.InternalServerError, match=NO_REPLY_LEFT):
        litellm.completion(model=MODEL, messages=HELLO, num_retries=0)


def test_it_records_each_request(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(text("One."), text("Two."))
    litellm.completion(model=MODEL, messages=HELLO, tools=[SEARCH_TOOL])
    list(litellm.completion(model=MODEL, messages=HELLO, stream=True))
    first, second = fake_llm.requests
    assert (first["model"], first["messages"], first["tools"]) == (MODEL, HELLO, [SEARCH_TOOL])
    assert (first.get("stream", False), second["stream"]) == (False, True)


async def test_it_answers_async_completions(fake_llm: FakeLLMServer, litellm: ModuleType) -> None:
    fake_llm.script(text("Hello, asynchronously."))
    response = await litellm.acompletion(model=MODEL, messages=HELLO)
    assert response.choices[0].message.content == "Hello, asynchronously."


def test_it_serves_other_requests_while_one_is_slow() -> None:
    with FakeLLMServer() as server:
        server.script(slow(10, text("Late.")), text("Fast."))
        threading.Thread(target=_post_expecting_failure, args=(server, []), daemon=True).start()
        _wait_for_requests(server, 1)
        started = time.monotonic()
        assert _post(server).json()["choices"][0]["message"]["content"] == "Fast."
        assert time.monotonic() - started < 1


def test_it_cuts_slow_replies_short_when_stopped() -> None:
    server = FakeLLMServer().start()
    server.script(slow(10, text("Never.")))
    failures: list[Exception] = []
    waiter = threading.Thread(target=_post_expecting_failure, args=(server, failures))
    waiter.start()
    _wait_for_requests(server, 1)
    server.stop()
    waiter.join(timeout=2)
    assert not waiter.is_alive()
    assert failures


def _post(server: FakeLLMServer) -> httpx.Response:
    url = f"{server.base_url}/chat/completions"
    return httpx.post(url, json={"model": MODEL, "messages": HELLO}, timeout=15)


def _post_expecting_failure(server: FakeLLMServer, failures: list[Exception]) -> None:
    try:
        _post(server)
    except httpx.HTTPError as exc:
        failures.append(exc)


def _wait_for_requests(server: FakeLLMServer, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
