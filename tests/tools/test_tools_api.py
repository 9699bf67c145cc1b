from __future__ import annotations

from typing import Any

import pytest

from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult
from apps.runtime.tools import registry as shared_registry
from tests.envelope import assert_envelope

pytestmark = pytest.mark.django_db

URL = "/api/tools/"
FIELDS = {"name", "description", "parameters", "category", "requires_approval", "source"}


class ReverseTool(BaseTool):
    definition = ToolDefinition(
        name="test_reverse",
        description="Reverses a text.",
        parameters={"type": "object", "properties": {"text": {"type": "string"}}},
        category=ToolCategory.FILE,
        requires_approval=True,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        return ToolResult(success=True, result=arguments.get("text", "")[::-1])


@pytest.fixture(autouse=True)
def plugin_tool():
    """A tool from plugin "reverser", plus one failed plugin, in the shared registry."""
    shared_registry.install_plugin("reverser", "tests:reverser", lambda r: r.register(ReverseTool))
    shared_registry.install_plugin("broken", "/plugins/broken.py", _raise)
    yield
    shared_registry.uninstall_plugin("reverser")
    shared_registry.uninstall_plugin("broken")


def _raise(registry: object) -> None:
    raise ImportError("no module named nowhere")


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tool["name"]: tool for tool in body["results"]}


def test_anonymous_users_get_401(api_client):
    assert_envelope(api_client.get(URL), 401)


def test_it_lists_core_and_plugin_tools_with_their_source(
    viewer_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        response = viewer_client.get(URL)

    assert response.status_code == 200
    tools = by_name(response.json())
    assert all(set(tool) == FIELDS for tool in tools.values())
    assert tools["list_agents"]["source"] == "core"
    assert tools["list_agents"]["category"] == "conductor"
    assert tools["test_reverse"] == {
        "name": "test_reverse",
        "description": "Reverses a text.",
        "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
        "category": "file",
        "requires_approval": True,
        "source": "reverser",
    }
    assert list(tools) == sorted(tools)


def test_failed_plugins_are_shown_to_staff_only(viewer_client, staff_client):
    failed = {"name": "broken", "source": "/plugins/broken.py"}

    staff_view = staff_client.get(URL).json()["failed_plugins"]
    viewer_view = viewer_client.get(URL).json()["failed_plugins"]

    assert {**failed, "error": "ImportError: no module named nowhere"} in staff_view
    assert viewer_view == []


def test_the_category_filter_keeps_that_category(viewer_client):
    body = viewer_client.get(URL, {"category": "file"}).json()

    assert "test_reverse" in [tool["name"] for tool in body["results"]]
    assert {tool["category"] for tool in body["results"]} == {"file"}


def test_an_unknown_category_is_a_400(viewer_client):
    error = assert_envelope(viewer_client.get(URL, {"category": "poetry"}), 400, "validation_error")

    assert "category" in error["details"]
