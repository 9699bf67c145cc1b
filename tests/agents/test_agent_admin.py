import pytest

from apps.agents.models import Agent
from tests.factories import AgentFactory, McpServerFactory

pytestmark = pytest.mark.django_db


def run_action(client, action: str, agents: list[Agent]):
    return client.post(
        "/admin/agents/agent/",
        {"action": action, "_selected_action": [agent.pk for agent in agents]},
        follow=True,
    )


def test_an_editor_adds_an_agent_in_the_admin(editor_admin):
    response = editor_admin.post(
        "/admin/agents/agent/add/",
        {
            "slug": "helper",
            "name": "Helper",
            "emoji": "🙂",
            "description": "Helps with anything at all.",
            "group": "general",
            "tags": '["general"]',
            "is_active": "on",
            "model": "gpt-4o-mini",
            "tools": "[]",
            "max_steps": "10",
            "mcp_configs": "{}",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Agent.objects.get(slug="helper").tags == ["general"]


def add_form(**overrides: str) -> dict[str, str]:
    """The least an agent's add form needs, with ``overrides``."""
    data = {
        "slug": "helper",
        "name": "Helper",
        "description": "Helps with anything at all.",
        "tags": "[]",
        "model": "gpt-4o-mini",
        "tools": "[]",
        "max_steps": "10",
        "mcp_configs": "{}",
    }
    return data | overrides


def test_the_admin_form_rejects_a_bad_slug(editor_admin):
    response = editor_admin.post("/admin/agents/agent/add/", add_form(slug="bad slug"))

    assert response.status_code == 200
    assert "letters, digits and underscores" in response.content.decode()
    assert not Agent.objects.exists()


def test_deactivate_and_activate_actions(editor_admin):
    agents = [AgentFactory(), AgentFactory()]

    run_action(editor_admin, "deactivate", agents)
    assert not Agent.objects.filter(is_active=True).exists()
    run_action(editor_admin, "activate", agents[:1])

    assert list(Agent.objects.filter(is_active=True)) == agents[:1]


def test_duplicate_creates_inactive_copies_with_free_slugs(editor_admin):
    original = AgentFactory(slug="writer", name="Writer", tags=["copy"])

    run_action(editor_admin, "duplicate", [original])
    run_action(editor_admin, "duplicate", [original])

    copies = Agent.objects.exclude(pk=original.pk).order_by("slug")
    assert [copy.slug for copy in copies] == ["writer_copy", "writer_copy2"]
    assert all(not copy.is_active and copy.tags == ["copy"] for copy in copies)


def test_a_viewer_without_staff_status_cannot_open_the_admin(client, viewer):
    client.force_login(viewer)

    response = client.get("/admin/agents/agent/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_form_refuses_an_unregistered_mcp_server(editor_admin):
    McpServerFactory(name="github")
    data = add_form(mcp_configs='{"servers": {"github": {}, "nobody": {}}}')

    response = editor_admin.post("/admin/agents/agent/add/", data)

    assert response.status_code == 200
    assert "No MCP server is registered as nobody" in response.content.decode()
    assert not Agent.objects.exists()

    data["mcp_configs"] = '{"servers": {"github": {"required": true}}}'
    assert editor_admin.post("/admin/agents/agent/add/", data).status_code == 302
    assert Agent.objects.get().mcp_configs == {"servers": {"github": {"required": True}}}
