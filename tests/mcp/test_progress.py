"""Run events as MCP progress messages."""

from __future__ import annotations

import pytest

from apps.mcp.execution import progress_message


@pytest.mark.parametrize(
    ("event", "data", "expected"),
    [
        ("run.queued", {"agent": "helper", "model": "gpt-4o-mini"}, "run.queued gpt-4o-mini"),
        ("tool.called", {"tool": "web_fetch", "arguments": {}}, "tool.called web_fetch"),
        (
            "llm.completed",
            {"model": "gpt-4o-mini", "prompt_tokens": 3},
            "llm.completed gpt-4o-mini",
        ),
        ("approval.resolved", {"status": "approved"}, "approval.resolved approved"),
        ("run.succeeded", {"status": "succeeded", "error": ""}, "run.succeeded: succeeded"),
        ("run.failed", {"status": "failed", "error": "max steps"}, "run.failed: max steps"),
        ("llm.delta", {"text": "Hel"}, None),
    ],
)
def test_each_event_is_one_line_and_token_deltas_none(event, data, expected):
    assert progress_message({"id": 1, "run_id": "r", "event": event, "data": data}) == expected
