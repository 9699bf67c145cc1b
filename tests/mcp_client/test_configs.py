"""Agents and instances name registry servers under ``servers``; a run uses the merge."""

from __future__ import annotations

import pytest

from apps.mcp_client.configs import ServerUse, run_server_uses
from tests.factories import AgentFactory, AgentInstanceFactory, McpServerFactory, RunFactory
from tests.instances.helpers import assert_envelope, detail_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def github():
    return McpServerFactory(name="github")


@pytest.fixture
def search():
    return McpServerFactory(name="search")


def test_an_instance_adds_a_server_and_switches_one_of_its_agents_off(
    editor_client, github, search
):
    agent = AgentFactory(mcp_configs={"servers": {"github": {}, "search": {"required": True}}})
    instance = AgentInstanceFactory(agent=agent)

    response = editor_client.patch(
        detail_url(instance, "mcp-configs/"),
        {"mcp_configs": {"servers": {"search": {"enabled": False}, "docs": {}}}},
        format="json",
    )

    assert_envelope(response, 400)  # "docs" is not registered
    McpServerFactory(name="docs")
    response = editor_client.patch(
        detail_url(instance, "mcp-configs/"),
        {"mcp_configs": {"servers": {"search": {"enabled": False}, "docs": {}}}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["combined"] == {
        "servers": {"github": {}, "search": {"required": True, "enabled": False}, "docs": {}}
    }


def test_a_run_uses_the_merged_servers_in_name_order(github, search):
    docs = McpServerFactory(name="docs")
    agent = AgentFactory(mcp_configs={"servers": {"github": {}, "search": {"required": True}}})
    instance = AgentInstanceFactory(
        agent=agent, mcp_configs={"servers": {"github": {"enabled": False}, "docs": {}}}
    )
    run = RunFactory(agent=agent, instance=instance)

    assert run_server_uses(run) == [
        ServerUse(name="docs", required=False, server=docs),
        ServerUse(name="search", required=True, server=search),
    ]


def test_a_run_without_an_instance_uses_its_agents_servers(github):
    run = RunFactory(agent=AgentFactory(mcp_configs={"servers": {"github": {"required": True}}}))

    assert run_server_uses(run) == [ServerUse(name="github", required=True, server=github)]


def test_a_server_unregistered_since_is_still_asked_for_without_a_row():
    # An archive restored from elsewhere, or a server unregistered after the agent named it.
    run = RunFactory(agent=AgentFactory(mcp_configs={"servers": {"gone": {"required": True}}}))

    assert run_server_uses(run) == [ServerUse(name="gone", required=True, server=None)]


def test_configs_without_servers_use_none():
    run = RunFactory(agent=AgentFactory(mcp_configs={"mcpServers": {"fs": {"command": "x"}}}))

    assert run_server_uses(run) == []


@pytest.mark.parametrize(
    ("servers", "complaint"),
    [
        (["github"], "must be an object"),
        ({"nobody": {}}, "nobody"),
        ({"github": True}, "must be an object of options"),
        ({"github": {"required": "yes"}}, "required and enabled"),
        ({"github": {"command": "gh-mcp"}}, "required and enabled"),
    ],
)
def test_bad_servers_are_refused_on_the_agent_and_the_instance(
    editor_client, github, servers, complaint
):
    instance = AgentInstanceFactory()
    before = dict(instance.mcp_configs)

    error = assert_envelope(
        editor_client.patch(
            detail_url(instance, "mcp-configs/"),
            {"mcp_configs": {"servers": servers}},
            format="json",
        ),
        400,
    )
    assert complaint in str(error["details"]["mcp_configs"])
    instance.refresh_from_db()
    assert instance.mcp_configs == before

    agent = AgentFactory()
    response = editor_client.patch(
        f"/api/agents/{agent.slug}/", {"mcp_configs": {"servers": servers}}, format="json"
    )
    assert complaint in str(assert_envelope(response, 400)["details"]["mcp_configs"])
    agent.refresh_from_db()
    assert agent.mcp_configs == {}


def test_an_agent_names_registered_servers(editor_client, github):
    agent = AgentFactory()

    response = editor_client.patch(
        f"/api/agents/{agent.slug}/",
        {"mcp_configs": {"servers": {"github": {"required": True}}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    agent.refresh_from_db()
    assert agent.mcp_configs == {"servers": {"github": {"required": True}}}
