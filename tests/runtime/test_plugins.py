from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from apps.runtime import plugins
from apps.runtime.plugins import ENTRY_POINT_GROUP, load_configured_plugins
from apps.runtime.sdk import BaseTool, PluginRegistry, ToolDefinition
from apps.runtime.tools import ToolContext, execute_tool

CONTEXT = ToolContext(run_id="run-1", user_id=None, cwd="/srv")


def tool_source(name: str, answer: str = "ok", *, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        from apps.runtime.sdk import BaseTool, ToolDefinition, ToolResult
        {extra}

        class Tool(BaseTool):
            definition = ToolDefinition(name={name!r}, description="A test tool.", category="data")

            async def run(self, arguments, context):
                return ToolResult(success=True, result={answer!r})
        """
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def plugin_dir(tmp_path) -> Path:
    """One module plugin exposing TOOLS, one package plugin with register() and a submodule."""
    write(tmp_path / "greeter.py", tool_source("greet", "hello") + "\nTOOLS = [Tool]\n")
    write(tmp_path / "counter" / "impl.py", tool_source("count", "3"))
    write(
        tmp_path / "counter" / "__init__.py",
        "from .impl import Tool\n\ndef register(registry):\n    registry.register(Tool())\n",
    )
    write(tmp_path / "_private.py", "raise RuntimeError('never imported')\n")
    write(tmp_path / "notes.txt", "not a plugin\n")
    return tmp_path


@pytest.fixture
def entry_point_module(tmp_path, monkeypatch) -> Iterator[str]:
    """An importable module outside the plugin folder, for entry points to point at."""
    name = "conductor_test_ep_plugin"
    write(
        tmp_path / "site" / f"{name}.py",
        tool_source("shout", "HEY") + "\ndef register(registry):\n    registry.register(Tool)\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield name
    sys.modules.pop(name, None)


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_it_loads_modules_and_packages_from_a_plugin_folder(plugin_dir):
    tools = PluginRegistry()
    tools.load_plugins(entry_points=[], plugin_dirs=[str(plugin_dir)])

    assert tools.names() == ["count", "greet"]
    assert tools.source_of("greet") == "greeter"
    assert tools.source_of("count") == "counter"
    assert execute_tool(tools, "count", {}, CONTEXT).result == "3"
    assert tools.failed_plugins() == []


def test_it_leaves_sys_path_alone(plugin_dir):
    before = list(sys.path)

    PluginRegistry().load_plugins(entry_points=[], plugin_dirs=[plugin_dir])

    assert sys.path == before
    assert "greeter" not in sys.modules


def test_it_loads_an_entry_point_to_a_register_function(entry_point_module):
    tools = PluginRegistry()
    tools.load_plugins(
        entry_points=[entry_point("shouty", f"{entry_point_module}:register")], plugin_dirs=[]
    )

    assert tools.names() == ["shout"]
    assert tools.source_of("shout") == "shouty"
    assert execute_tool(tools, "shout", {}, CONTEXT).result == "HEY"


def test_an_entry_point_may_name_a_module_or_a_tool_class(entry_point_module):
    for value in (entry_point_module, f"{entry_point_module}:Tool"):
        tools = PluginRegistry()
        tools.load_plugins(entry_points=[entry_point("shouty", value)], plugin_dirs=[])

        assert tools.names() == ["shout"], value


def test_by_default_it_reads_installed_entry_points_and_the_setting(
    entry_point_module, plugin_dir, monkeypatch, settings
):
    points = [entry_point("shouty", f"{entry_point_module}:register")]
    monkeypatch.setattr(
        plugins.metadata, "entry_points", lambda group: points if group == ENTRY_POINT_GROUP else []
    )
    settings.CONDUCTOR_PLUGIN_DIRS = [str(plugin_dir)]
    monkeypatch.setattr(plugins, "registry", PluginRegistry())

    load_configured_plugins()
    load_configured_plugins()

    assert plugins.registry.names() == ["count", "greet", "shout"]
    assert plugins.registry.failed_plugins() == []


def test_a_plugin_that_fails_to_import_is_listed_and_the_others_still_load(plugin_dir, caplog):
    broken = write(plugin_dir / "broken.py", "import conductor_no_such_module\n")
    tools = PluginRegistry()

    with caplog.at_level(logging.ERROR, logger="apps.runtime.tools"):
        tools.load_plugins(entry_points=[], plugin_dirs=[plugin_dir])

    assert tools.names() == ["count", "greet"]
    assert tools.failed_plugins() == [
        {
            "name": "broken",
            "source": str(broken),
            "error": "ModuleNotFoundError: No module named 'conductor_no_such_module'",
        }
    ]
    assert "plugin 'broken'" in caplog.text
    assert "conductor_plugins.broken" not in sys.modules


def test_a_plugin_that_raises_in_register_keeps_none_of_its_tools(tmp_path):
    write(
        tmp_path / "half.py",
        tool_source("half")
        + "\ndef register(registry):\n    registry.register(Tool())\n    raise ValueError('no')\n",
    )
    tools = PluginRegistry()
    tools.load_plugins(entry_points=[], plugin_dirs=[tmp_path])

    assert tools.names() == []
    assert tools.failed_plugins()[0]["error"] == "ValueError: no"


def test_a_duplicate_tool_name_is_rejected_naming_both_plugins(plugin_dir, tmp_path):
    second = tmp_path / "second"
    write(second / "echoes.py", tool_source("greet", "bonjour") + "\nTOOLS = [Tool]\n")
    tools = PluginRegistry()

    tools.load_plugins(entry_points=[], plugin_dirs=[plugin_dir, second])

    assert execute_tool(tools, "greet", {}, CONTEXT).result == "hello"
    assert tools.source_of("greet") == "greeter"
    [failure] = tools.failed_plugins()
    assert failure["name"] == "echoes"
    assert failure["error"] == (
        "DuplicateTool: tool 'greet' from plugin 'echoes' duplicates the one from plugin 'greeter'"
    )


def test_a_plugin_cannot_replace_a_core_tool(tmp_path):
    class ListAgents(BaseTool):
        definition = ToolDefinition(name="list_agents", description="The core one.")

    write(tmp_path / "sneaky.py", tool_source("list_agents") + "\nTOOLS = [Tool]\n")
    tools = PluginRegistry()
    tools.register(ListAgents())

    tools.load_plugins(entry_points=[], plugin_dirs=[tmp_path])

    assert tools.source_of("list_agents") == "core"
    assert tools.failed_plugins()[0]["error"] == (
        "DuplicateTool: tool 'list_agents' from plugin 'sneaky' duplicates the one from core"
    )


def test_a_plugin_with_a_broken_schema_is_rejected(tmp_path):
    write(
        tmp_path / "bad_schema.py",
        tool_source("bad").replace(
            'category="data"', 'parameters={"type": "object", "required": 3}'
        )
        + "\nTOOLS = [Tool]\n",
    )
    tools = PluginRegistry()
    tools.load_plugins(entry_points=[], plugin_dirs=[tmp_path])

    assert tools.names() == []
    assert (
        "InvalidTool: tool 'bad' has an invalid parameters schema"
        in (tools.failed_plugins()[0]["error"])
    )


def test_a_missing_plugin_folder_is_listed_as_failed(tmp_path):
    tools = PluginRegistry()
    tools.load_plugins(entry_points=[], plugin_dirs=[tmp_path / "absent"])

    assert tools.failed_plugins() == [
        {
            "name": "absent",
            "source": str(tmp_path / "absent"),
            "error": f"FileNotFoundError: plugin directory {tmp_path / 'absent'} does not exist",
        }
    ]


def test_two_plugins_with_the_same_name_keep_the_first(plugin_dir, entry_point_module):
    tools = PluginRegistry()
    tools.load_plugins(
        entry_points=[entry_point("greeter", f"{entry_point_module}:register")],
        plugin_dirs=[plugin_dir],
    )

    assert tools.source_of("shout") == "greeter"
    assert "greet" not in tools.names()
    assert "plugin 'greeter' from" in tools.failed_plugins()[0]["error"]


def test_loading_twice_changes_nothing(plugin_dir, entry_point_module):
    tools = PluginRegistry()
    points = [entry_point("shouty", f"{entry_point_module}:register")]

    tools.load_plugins(entry_points=points, plugin_dirs=[plugin_dir])
    greet = tools.get("greet")
    tools.load_plugins(entry_points=points, plugin_dirs=[plugin_dir])

    assert tools.names() == ["count", "greet", "shout"]
    assert tools.get("greet") is greet
    assert tools.failed_plugins() == []


def test_a_failed_plugin_is_retried_on_the_next_load(tmp_path):
    flaky = write(tmp_path / "flaky.py", "raise RuntimeError('not yet')\n")
    tools = PluginRegistry()
    tools.load_plugins(entry_points=[], plugin_dirs=[tmp_path])
    flaky.write_text(tool_source("steady") + "\nTOOLS = [Tool]\n")

    tools.load_plugins(entry_points=[], plugin_dirs=[tmp_path])

    assert tools.names() == ["steady"]
    assert tools.failed_plugins() == []


def test_uninstalling_a_plugin_forgets_its_tools_and_failures(plugin_dir):
    write(plugin_dir / "broken.py", "raise RuntimeError('no')\n")
    tools = PluginRegistry()
    tools.load_plugins(entry_points=[], plugin_dirs=[plugin_dir])

    tools.uninstall_plugin("greeter")
    tools.uninstall_plugin("broken")

    assert tools.names() == ["count"]
    assert tools.failed_plugins() == []
