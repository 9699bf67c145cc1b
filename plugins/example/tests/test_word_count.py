from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from apps.runtime.plugins import ENTRY_POINT_GROUP
from apps.runtime.sdk import PluginRegistry
from apps.runtime.tools import ToolContext, execute_tool

SRC = Path(__file__).resolve().parent.parent / "src"
CONTEXT = ToolContext(run_id="test", user_id=None, cwd="/srv/example")


@pytest.fixture
def tools() -> PluginRegistry:
    registry = PluginRegistry()
    registry.load_plugins(entry_points=[], plugin_dirs=[SRC])
    return registry


def test_the_plugin_folder_provides_word_count_as_a_data_tool(tools):
    assert tools.names() == ["word_count"]
    assert tools.source_of("word_count") == "conductor_plugin_example"
    assert tools.definitions()[0].category == "data"
    assert tools.failed_plugins() == []


def test_it_counts_words_characters_and_lines(tools):
    result = execute_tool(tools, "word_count", {"text": "two words\nand more"}, CONTEXT)

    assert result.success is True
    assert result.result == {"words": 4, "characters": 18, "lines": 2}


def test_an_empty_text_counts_nothing(tools):
    result = execute_tool(tools, "word_count", {"text": ""}, CONTEXT)

    assert result.result == {"words": 0, "characters": 0, "lines": 0}


def test_a_missing_text_is_an_error_for_the_model(tools):
    result = execute_tool(tools, "word_count", {}, CONTEXT)

    assert result.success is False
    assert result.error == "invalid arguments: $: 'text' is a required property"


@pytest.fixture
def installed(monkeypatch) -> Iterator[None]:
    """The package importable as if pip-installed."""
    monkeypatch.syspath_prepend(str(SRC))
    yield
    sys.modules.pop("conductor_plugin_example", None)


@pytest.mark.usefixtures("installed")
def test_its_entry_point_registers_the_tool_under_the_plugin_name():
    point = EntryPoint("example", "conductor_plugin_example:register", ENTRY_POINT_GROUP)
    tools = PluginRegistry()

    tools.load_plugins(entry_points=[point], plugin_dirs=[])

    assert tools.source_of("word_count") == "example"
