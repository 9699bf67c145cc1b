from __future__ import annotations

import pytest

from apps.instances.models import AgentInstance
from tests.factories import AgentFactory, AgentInstanceFactory
from tests.instances.helpers import assert_envelope, detail_url

pytestmark = pytest.mark.django_db

TEMPLATE = {
    "github": {"command": "gh-mcp", "env": {"TOKEN": "template", "ORG": "acme"}},
    "search": {"url": "https://search.example"},
}


@pytest.fixture
def instance() -> AgentInstance:
    agent = AgentFactory(mcp_configs=TEMPLATE)
    return AgentInstanceFactory(
        agent=agent, mcp_configs={"github": {"env": {"TOKEN": "mine"}}, "db": {"dsn": "x"}}
    )


def test_it_shows_the_template_the_instance_and_the_deep_merge(viewer_client, instance):
    response = viewer_client.get(detail_url(instance, "mcp-configs/"))

    assert response.status_code == 200
    body = response.json()
    assert body["template"] == TEMPLATE
    assert body["instance"] == {"github": {"env": {"TOKEN": "mine"}}, "db": {"dsn": "x"}}
    assert body["combined"] == {
        "github": {"command": "gh-mcp", "env": {"TOKEN": "mine", "ORG": "acme"}},
        "search": {"url": "https://search.example"},
        "db": {"dsn": "x"},
    }


def test_a_patch_replaces_the_instances_own_configs(editor_client, instance):
    response = editor_client.patch(
        detail_url(instance, "mcp-configs/"),
        {"mcp_configs": {"search": {"url": "https://mine.example"}}},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["instance"] == {"search": {"url": "https://mine.example"}}
    assert body["combined"]["search"] == {"url": "https://mine.example"}
    assert body["combined"]["github"] == TEMPLATE["github"]
    instance.refresh_from_db()
    assert instance.mcp_configs == {"search": {"url": "https://mine.example"}}


def test_an_empty_object_clears_the_instances_configs(editor_client, instance):
    response = editor_client.patch(
        detail_url(instance, "mcp-configs/"), {"mcp_configs": {}}, format="json"
    )

    assert response.json()["combined"] == TEMPLATE


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mcp_configs": None},
        {"mcp_configs": ["a"]},
        {"mcp_configs": "text"},
        {"mcp_configs": 3},
        {"mcp_configs": {"big": "x" * (20 * 1024)}},
    ],
)
def test_anything_but_a_small_json_object_is_refused(editor_client, instance, body):
    before = instance.mcp_configs

    response = editor_client.patch(detail_url(instance, "mcp-configs/"), body, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "mcp_configs" in error["details"]
    instance.refresh_from_db()
    assert instance.mcp_configs == before


def test_a_viewer_reads_but_cannot_patch(viewer_client, instance):
    url = detail_url(instance, "mcp-configs/")

    assert viewer_client.get(url).status_code == 200
    assert_envelope(viewer_client.patch(url, {"mcp_configs": {}}, format="json"), 403)


def test_an_anonymous_client_cannot_read(api_client, instance):
    assert_envelope(api_client.get(detail_url(instance, "mcp-configs/")), 401)


def test_a_deleted_instance_is_a_404(viewer_client):
    deleted = AgentInstanceFactory(is_deleted=True)

    assert_envelope(viewer_client.get(detail_url(deleted, "mcp-configs/")), 404)
