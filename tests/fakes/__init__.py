"""Fakes for tests: a scripted OpenAI-compatible LLM server (see llm_server.py)."""

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

__all__ = [
    "NO_REPLY_LEFT",
    "FakeLLMServer",
    "error",
    "malformed",
    "raw_http",
    "slow",
    "text",
    "tool_call",
    "tool_calls",
]
