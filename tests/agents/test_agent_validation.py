import pytest

from tests.agents.test_agent_crud import VALID
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "code-reviewer"),
        ("slug", "code reviewer"),
        ("slug", "../etc"),
        ("slug", ""),
        ("description", "too short"),
        ("description", "x" * 201),
        ("max_steps", 0),
        ("max_steps", 101),
        ("max_steps", "ten"),
        ("tags", "python"),
        ("tags", [1, 2]),
        ("tools", "web_fetch"),
        ("tools", ["Web Fetch"]),
        ("tools", ["x" * 65]),
        ("pre_approved_tools", ["github__get.file"]),
        ("model", "gpt 4o"),
        ("model", ""),
        ("mcp_configs", ["not", "an", "object"]),
        ("persona", 999999),
        ("persona", "abc"),
        ("name", ""),
        ("is_active", "perhaps"),
    ],
)
def test_bad_input_is_rejected_with_400_naming_the_field(editor_client, field, value):
    response = editor_client.post("/api/agents/", {**VALID, field: value}, format="json")

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]


def test_a_duplicate_slug_is_rejected_with_400(editor_client):
    AgentFactory(slug="code_reviewer")

    response = editor_client.post("/api/agents/", VALID, format="json")

    assert response.status_code == 400
    assert "slug" in response.json()["error"]["details"]


def test_oversized_mcp_configs_are_rejected(editor_client):
    huge = {"servers": ["x" * 1000 for _ in range(30)]}

    response = editor_client.post("/api/agents/", {**VALID, "mcp_configs": huge}, format="json")

    assert response.status_code == 400
    assert "mcp_configs" in response.json()["error"]["details"]


def test_a_rejected_update_changes_nothing(editor_client):
    agent = AgentFactory(slug="writer", description="Writes things for the team.")

    response = editor_client.patch("/api/agents/writer/", {"description": "short"}, format="json")

    agent.refresh_from_db()
    assert response.status_code == 400
    assert agent.description == "Writes things for the team."


def test_tools_of_mcp_servers_may_be_listed_and_pre_approved(editor_client):
    response = editor_client.post(
        "/api/agents/",
        {**VALID, "pre_approved_tools": ["github-mcp__get-file", "docs__searchPages"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["pre_approved_tools"] == ["github-mcp__get-file", "docs__searchPages"]
