from __future__ import annotations

from typing import Any

import pytest

from apps.runtime import sdk
from apps.runtime.exceptions import DuplicateTool, InvalidTool
from apps.runtime.tools import ToolContext, execute_tool

CONTEXT = ToolContext(run_id="run-1", user_id=None, cwd="/srv")
STRICT = {
    "type": "object",
    "properties": {"text": {"type": "string"}, "times": {"type": "integer", "minimum": 1}},
    "required": ["text"],
    "additionalProperties": False,
}


class RepeatTool(sdk.BaseTool):
    definition = sdk.ToolDefinition(
        name="repeat",
        description="Repeats a text.",
        parameters=STRICT,
        category=sdk.ToolCategory.DATA,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> sdk.ToolResult:
        return sdk.ToolResult(success=True, result=arguments["text"] * arguments.get("times", 1))


def tool_with(parameters: Any, name: str = "broken") -> sdk.BaseTool:
    class Tool(sdk.BaseTool):
        definition = sdk.ToolDefinition(name=name, description="x", parameters=parameters)

    return Tool()


@pytest.fixture
def tools() -> sdk.PluginRegistry:
    registry = sdk.PluginRegistry()
    registry.register(RepeatTool())
    return registry


def test_the_sdk_exports_exactly_the_five_plugin_names():
    assert sorted(sdk.__all__) == [
        "BaseTool", "PluginRegistry", "ToolCategory", "ToolDefinition", "ToolResult",
    ]  # fmt: skip
    assert all(getattr(sdk, name) for name in sdk.__all__)


def test_valid_arguments_reach_the_tool(tools):
    result = execute_tool(tools, "repeat", {"text": "ab", "times": 2}, CONTEXT)

    assert result == sdk.ToolResult(success=True, result="abab", duration_ms=result.duration_ms)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({}, "invalid arguments: $: 'text' is a required property"),
        ({"text": 3}, "invalid arguments: $.text: 3 is not of type 'string'"),
        ({"text": "a", "times": 0}, "invalid arguments: $.times: 0 is less than the minimum of 1"),
        (
            {"text": "a", "loud": True},
            "invalid arguments: $: Additional properties are not allowed ('loud' was unexpected)",
        ),
        (["a"], "invalid arguments: $: ['a'] is not of type 'object'"),
    ],
)
def test_invalid_arguments_become_an_error_observation(tools, arguments, error):
    result = execute_tool(tools, "repeat", arguments, CONTEXT)

    assert result.success is False
    assert result.error == error


def test_every_argument_error_is_reported_in_one_line(tools):
    result = execute_tool(tools, "repeat", {"times": "2"}, CONTEXT)

    assert result.error == (
        "invalid arguments: $: 'text' is a required property; $.times: '2' is not of type 'integer'"
    )


def test_an_unknown_tool_and_a_crashing_tool_stay_observations(tools):
    class Crash(sdk.BaseTool):
        definition = sdk.ToolDefinition(name="crash", description="Fails.")

        async def run(self, arguments: dict[str, Any], context: ToolContext) -> sdk.ToolResult:
            raise RuntimeError("boom")

    tools.register(Crash())

    assert execute_tool(tools, "nope", {}, CONTEXT).error == "Unknown tool 'nope'."
    assert execute_tool(tools, "crash", {}, CONTEXT).error == "RuntimeError: boom"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"type": "object", "properties": {"n": {"type": "integr"}}}, "invalid parameters schema"),
        ({"type": "object", "required": "text"}, "invalid parameters schema"),
        ({"type": "string"}, "parameters must be a schema of type object"),
        (["text"], "parameters must be a schema of type object"),
    ],
)
def test_a_broken_parameters_schema_is_rejected_at_register(tools, parameters, message):
    with pytest.raises(InvalidTool, match=message):
        tools.register(tool_with(parameters))

    assert "broken" not in tools.names()


def test_a_name_a_model_cannot_call_is_rejected(tools):
    with pytest.raises(InvalidTool, match="must be 1-64 letters"):
        tools.register(tool_with({"type": "object"}, name="two words"))


def test_an_unknown_category_fails_when_the_definition_is_written():
    with pytest.raises(ValueError, match="'poetry' is not a valid ToolCategory"):
        sdk.ToolDefinition(name="x", description="x", category="poetry")  # type: ignore[arg-type]


def test_registering_the_same_tool_again_from_the_same_source_is_harmless(tools):
    tools.register(RepeatTool())
    tools.register(RepeatTool)

    assert tools.names() == ["repeat"]
    assert tools.source_of("repeat") == "core"


def test_a_second_tool_with_the_same_name_is_rejected_naming_both_sources(tools):
    with pytest.raises(DuplicateTool) as caught:
        tools.register(RepeatTool(), source="shouty")

    assert str(caught.value) == "tool 'repeat' from plugin 'shouty' duplicates the one from core"
    assert tools.source_of("repeat") == "core"


def test_unregister_removes_a_tool(tools):
    tools.unregister("repeat")

    assert tools.names() == []
    assert tools.definitions(["repeat"]) == []
