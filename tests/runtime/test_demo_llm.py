"""The offline demo model answers through litellm's real client path, offline."""

from __future__ import annotations

import json

import pytest

from apps.runtime.demo_llm import MARK, demo_reply, ensure_registered
from apps.runtime.providers import DEMO_MODEL

SYSTEM = {
    "role": "system",
    "content": "You are helpful.\n\nTools:\n- list_agents: Lists the agents.\n- web_fetch: ...",
}
REQUEST = {"role": "user", "content": "Who can review my pull request?"}
OBSERVATION = '[{"slug": "code_reviewer", "name": "Code Reviewer"}]'


@pytest.fixture
def litellm_with_demo(socket_disabled):
    import litellm

    ensure_registered()
    return litellm


@pytest.fixture
def socket_disabled(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the offline demo model must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def content(response) -> dict:
    return json.loads(response.choices[0].message.content)


def after_the_tool(first_reply: str) -> list[dict]:
    return [
        SYSTEM,
        REQUEST,
        {"role": "assistant", "content": first_reply},
        {"role": "user", "content": f"Observation: {OBSERVATION}"},
    ]


def test_it_first_calls_list_agents_when_the_system_prompt_offers_it(litellm_with_demo):
    response = litellm_with_demo.completion(model=DEMO_MODEL, messages=[SYSTEM, REQUEST])

    reply = content(response)
    assert reply["action"] == {"tool": "list_agents", "arguments": {}}
    assert reply["thought"].startswith(MARK)
    assert response.model == DEMO_MODEL


def test_after_a_tool_result_it_gives_a_labelled_final_answer(litellm_with_demo):
    first = litellm_with_demo.completion(model=DEMO_MODEL, messages=[SYSTEM, REQUEST])

    response = litellm_with_demo.completion(
        model=DEMO_MODEL, messages=after_the_tool(first.choices[0].message.content)
    )

    answer = content(response)["final_answer"]
    assert answer.startswith("[offline demo]")
    assert "offline demo model" in answer
    assert "Who can review my pull request?" in answer
    assert "code_reviewer" in answer
    assert "Observation:" not in answer


def test_a_native_tool_message_counts_as_the_observation(litellm_with_demo):
    messages = [
        SYSTEM,
        REQUEST,
        {"role": "assistant", "content": None, "tool_calls": [_tool_call()]},
        {"role": "tool", "tool_call_id": "call_1", "content": OBSERVATION},
    ]

    response = litellm_with_demo.completion(model=DEMO_MODEL, messages=messages)

    assert "code_reviewer" in content(response)["final_answer"]


def test_without_list_agents_it_answers_at_once(litellm_with_demo):
    messages = [{"role": "system", "content": "Tools:\n- web_fetch: ..."}, REQUEST]

    response = litellm_with_demo.completion(model=DEMO_MODEL, messages=messages)

    answer = content(response)["final_answer"]
    assert answer.startswith("[offline demo]")
    assert "No tool was called." in answer


def test_it_costs_nothing_and_counts_words_as_tokens(litellm_with_demo):
    response = litellm_with_demo.completion(model=DEMO_MODEL, messages=[SYSTEM, REQUEST])

    reply = response.choices[0].message.content
    assert response.usage.completion_tokens == len(reply.split())
    assert response.usage.prompt_tokens > 0
    assert litellm_with_demo.completion_cost(completion_response=response) == 0.0


def test_it_streams_the_same_reply_in_pieces(litellm_with_demo):
    stream = litellm_with_demo.completion(model=DEMO_MODEL, messages=[SYSTEM, REQUEST], stream=True)

    deltas = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]

    assert len([d for d in deltas if d]) > 1
    assert json.loads("".join(deltas))["action"]["tool"] == "list_agents"


async def test_it_answers_async_calls(litellm_with_demo):
    response = await litellm_with_demo.acompletion(model=DEMO_MODEL, messages=[SYSTEM, REQUEST])

    assert content(response)["action"]["tool"] == "list_agents"


async def test_it_streams_async_calls(litellm_with_demo):
    stream = await litellm_with_demo.acompletion(
        model=DEMO_MODEL, messages=after_the_tool("{}"), stream=True
    )

    deltas = [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]

    assert json.loads("".join(deltas))["final_answer"].startswith("[offline demo]")


def test_registering_twice_keeps_one_provider(litellm_with_demo):
    ensure_registered()

    providers = [item["provider"] for item in litellm_with_demo.custom_provider_map]
    assert providers.count("conductor") == 1


def test_a_long_request_is_shortened_in_the_answer():
    reply = json.loads(demo_reply([{"role": "user", "content": "word " * 500}]))

    assert len(reply["final_answer"]) < 600
    assert "…" in reply["final_answer"]


def test_multimodal_content_parts_are_read_as_text():
    request = {"role": "user", "content": [{"type": "text", "text": "Describe this"}]}

    reply = json.loads(demo_reply([request]))

    assert "Describe this" in reply["final_answer"]


def _tool_call() -> dict:
    return {
        "id": "call_1",
        "type": "function",
        "function": {"name": "list_agents", "arguments": "{}"},
    }
