"""Reads need a signed-in user; writes need the instance model permissions."""

from __future__ import annotations

import pytest

from apps.instances.models import AgentInstance
from tests.factories import AgentInstanceFactory
from tests.instances.helpers import URL, assert_envelope, detail_url

pytestmark = pytest.mark.django_db


def reads(instance: AgentInstance) -> list[str]:
    return [URL, detail_url(instance), detail_url(instance, "mcp-configs/")]


def writes(instance: AgentInstance) -> list[tuple[str, str, dict]]:
    return [
        ("post", URL, {"agent": instance.agent_id, "screenplay": instance.screenplay_id}),
        ("patch", detail_url(instance), {"status": "queued"}),
        ("put", detail_url(instance), {"agent": instance.agent_id, "screenplay": 1}),
        ("delete", detail_url(instance), {}),
        ("post", detail_url(instance, "restore/"), {}),
        ("patch", f"{URL}reorder/", {"order": [{"id": instance.pk, "display_order": 4}]}),
        ("patch", detail_url(instance, "cwd/"), {"cwd": "/x"}),
        ("patch", detail_url(instance, "mcp-configs/"), {"mcp_configs": {"a": {}}}),
    ]


def test_anonymous_clients_get_401_everywhere(api_client):
    instance = AgentInstanceFactory()

    for url in [*reads(instance), detail_url(instance, "context/")]:
        assert_envelope(api_client.get(url), 401, "not_authenticated")
    for method, url, body in writes(instance):
        assert_envelope(getattr(api_client, method)(url, body, format="json"), 401)


def test_a_viewer_reads_but_every_write_is_a_403(viewer_client):
    instance = AgentInstanceFactory(status="pending", cwd="", display_order=0)

    for url in reads(instance):
        assert viewer_client.get(url).status_code == 200, url
    for method, url, body in writes(instance):
        response = getattr(viewer_client, method)(url, body, format="json")
        assert_envelope(response, 403, "permission_denied")
    row = AgentInstance.objects.get(pk=instance.pk)
    assert (row.status, row.cwd, row.display_order, row.mcp_configs) == ("pending", "", 0, {})
    assert AgentInstance.all_objects.count() == 1


def test_a_user_with_only_the_add_permission_cannot_change(author, author_client):
    from django.contrib.auth.models import Permission

    author.user_permissions.remove(Permission.objects.get(codename="change_agentinstance"))
    instance = AgentInstanceFactory()

    response = author_client.patch(detail_url(instance, "cwd/"), {"cwd": "/x"}, format="json")

    assert_envelope(response, 403)
