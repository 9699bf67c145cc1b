"""The `fake_llm` pytest fixture: a running FakeLLMServer that litellm talks to."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture
def fake_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    """litellm reads OPENAI_BASE_URL / OPENAI_API_BASE on every call (after an explicit
    `api_base=` and the `litellm.api_base` global, which are cleared here), and keys its
    client cache on the base URL, so each test's fresh port gets a fresh client."""
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    with FakeLLMServer() as server:
        for name in ("OPENAI_BASE_URL", "OPENAI_API_BASE"):
            monkeypatch.setenv(name, server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-key")
        _clear_litellm_globals(monkeypatch)
        yield server


def _clear_litellm_globals(monkeypatch: pytest.MonkeyPatch) -> None:
    litellm = sys.modules.get("litellm")
    if litellm is None:
        return  # not imported yet: nothing set, and importing it here would cost seconds
    for name in ("api_base", "api_key", "openai_key"):
        monkeypatch.setattr(litellm, name, None)
