from __future__ import annotations

import pytest
from django.test import Client

from apps.instances.models import AgentInstance
from apps.instances.services import instance_record_run
from tests.factories import (
    AgentFactory,
    AgentInstanceFactory,
    ConversationFactory,
    McpServerFactory,
)
from tests.querycount import assert_constant_queries

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/instances/agentinstance/"
ADD = f"{CHANGELIST}add/"


@pytest.fixture
def editor_admin(editor) -> Client:
    client = Client()
    client.force_login(editor)
    return client


@pytest.fixture
def superuser_admin(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def run_action(client: Client, action: str, *instances: AgentInstance, **extra: str):
    data = {"action": action, "_selected_action": [i.pk for i in instances], **extra}
    return client.post(CHANGELIST, data, follow=True)


def form_data(instance_or_none: AgentInstance | None = None, **overrides: object) -> dict:
    conversation = instance_or_none.conversation if instance_or_none else ConversationFactory()
    agent_id = instance_or_none.agent_id if instance_or_none else AgentFactory().pk
    data: dict[str, object] = {
        "agent": agent_id,
        "screenplay": conversation.screenplay_id,
        "conversation": conversation.pk,
        "status": "pending",
        "position": '{"x": 1, "y": 2}',
        "display_order": "",
        "cwd": "",
        "config": "{}",
        "mcp_configs": "{}",
    }
    data.update(overrides)
    return data


def test_the_changelist_shows_statistics_columns(editor_admin):
    instance = AgentInstanceFactory(agent=AgentFactory(slug="stats_agent"))
    instance_record_run(instance_id=instance.pk, exit_status="succeeded", duration_ms=1500)
    instance_record_run(instance_id=instance.pk, exit_status="failed", duration_ms=500)

    response = editor_admin.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    for heading in ("Task count", "Success rate", "Average duration", "Last exit status"):
        assert heading in content
    assert "50.0%" in content
    assert "1,000.0 ms" in content
    assert "failed" in content


def test_the_changelist_shows_deleted_rows_and_filters_them(editor_admin):
    AgentInstanceFactory(agent=AgentFactory(name="Alive agent"))
    AgentInstanceFactory(agent=AgentFactory(name="Gone agent"), is_deleted=True)

    everything = editor_admin.get(CHANGELIST).content
    only_deleted = editor_admin.get(f"{CHANGELIST}?is_deleted__exact=1").content

    assert b"Alive agent in" in everything
    assert b"Gone agent in" in everything
    assert b"Alive agent in" not in only_deleted
    assert b"Gone agent in" in only_deleted


def test_the_changelist_filters_by_status_agent_and_screenplay(editor_admin):
    target = AgentInstanceFactory(agent=AgentFactory(name="Target agent"), status="running")
    AgentInstanceFactory(agent=AgentFactory(name="Other agent"))

    for query in (
        "status__exact=running",
        f"agent__id__exact={target.agent_id}",
        f"screenplay__id__exact={target.screenplay_id}",
    ):
        content = editor_admin.get(f"{CHANGELIST}?{query}").content
        assert b"Target agent in" in content, query
        assert b"Other agent in" not in content, query


def test_the_changelist_searches(editor_admin):
    AgentInstanceFactory(agent=AgentFactory(name="Needle agent"))
    AgentInstanceFactory(agent=AgentFactory(name="Hay agent"))

    content = editor_admin.get(f"{CHANGELIST}?q=needle").content

    assert b"Needle agent in" in content
    assert b"Hay agent in" not in content


def test_the_changelist_costs_constant_queries_from_1_to_50_rows(superuser_admin):
    conversation = ConversationFactory()
    assert_constant_queries(
        lambda: superuser_admin.get(CHANGELIST),
        lambda count: AgentInstanceFactory.create_batch(count, conversation=conversation),
    )


def test_the_change_form_shows_statistics_read_only(editor_admin):
    instance = AgentInstanceFactory()
    instance_record_run(instance_id=instance.pk, exit_status="succeeded", duration_ms=10)

    response = editor_admin.get(f"{CHANGELIST}{instance.pk}/change/")

    assert response.status_code == 200
    assert b'name="task_count"' not in response.content
    assert b'name="success_count"' not in response.content
    assert b"Task count" in response.content


def test_adding_through_the_admin_places_it_after_the_last_one(editor_admin):
    existing = AgentInstanceFactory(display_order=4)

    response = editor_admin.post(ADD, form_data(existing))

    assert response.status_code == 302, response.content
    added = AgentInstance.objects.exclude(pk=existing.pk).get()
    assert (added.display_order, added.position) == (5, {"x": 1, "y": 2})


def test_editing_through_the_admin_keeps_the_statistics(editor_admin):
    instance = AgentInstanceFactory()
    instance_record_run(instance_id=instance.pk, exit_status="succeeded", duration_ms=10)

    response = editor_admin.post(
        f"{CHANGELIST}{instance.pk}/change/",
        form_data(instance, display_order="3", cwd="/srv/x", task_count="99"),
    )

    assert response.status_code == 302, response.content
    instance.refresh_from_db()
    assert (instance.cwd, instance.display_order, instance.task_count) == ("/srv/x", 3, 1)


def test_an_existing_instance_needs_a_display_order(editor_admin):
    instance = AgentInstanceFactory(display_order=2)

    response = editor_admin.post(f"{CHANGELIST}{instance.pk}/change/", form_data(instance))

    assert response.status_code == 200
    assert b"keeps a display order" in response.content
    assert AgentInstance.objects.get(pk=instance.pk).display_order == 2


def test_the_admin_refuses_a_relative_cwd_and_a_foreign_screenplays_conversation(editor_admin):
    relative = editor_admin.post(ADD, form_data(cwd="relative"))
    foreign = editor_admin.post(ADD, form_data(conversation=ConversationFactory().pk))

    assert relative.status_code == 200
    assert b"absolute path" in relative.content
    assert foreign.status_code == 200
    assert b"another screenplay" in foreign.content
    assert not AgentInstance.all_objects.exists()


def test_the_admin_refuses_an_unregistered_mcp_server(editor_admin):
    McpServerFactory(name="github")

    refused = editor_admin.post(ADD, form_data(mcp_configs='{"servers": {"nobody": {}}}'))
    accepted = editor_admin.post(
        ADD, form_data(mcp_configs='{"servers": {"github": {"enabled": false}}}')
    )

    assert refused.status_code == 200
    assert b"No MCP server is registered as nobody" in refused.content
    assert accepted.status_code == 302, accepted.content
    assert AgentInstance.objects.get().mcp_configs == {"servers": {"github": {"enabled": False}}}


def test_the_soft_delete_action_marks_rows_deleted(editor_admin):
    first, second = AgentInstanceFactory.create_batch(2)

    run_action(editor_admin, "soft_delete_selected", first, second)

    assert AgentInstance.objects.count() == 0
    assert AgentInstance.all_objects.filter(is_deleted=True).count() == 2


def test_the_restore_action_brings_rows_back(editor_admin):
    instance = AgentInstanceFactory(is_deleted=True)

    response = run_action(editor_admin, "restore_selected", instance)

    assert b"Restored 1 instance(s)." in response.content
    assert AgentInstance.objects.filter(pk=instance.pk).exists()


def test_the_restore_action_reports_a_deleted_parent(editor_admin):
    from apps.core.soft_delete import soft_delete_tree

    instance = AgentInstanceFactory()
    soft_delete_tree(instance.conversation)

    response = run_action(editor_admin, "restore_selected", instance)

    assert b"restore it first" in response.content
    assert not AgentInstance.objects.filter(pk=instance.pk).exists()


def test_a_superuser_can_hard_delete(superuser_admin):
    instance = AgentInstanceFactory(is_deleted=True)
    listing = superuser_admin.get(CHANGELIST)
    assert b"Hard delete selected (permanent)" in listing.content

    confirmation = run_action(superuser_admin, "delete_selected", instance)
    assert b"Are you sure" in confirmation.content
    run_action(superuser_admin, "delete_selected", instance, post="yes")

    assert not AgentInstance.all_objects.exists()


def test_an_editor_cannot_hard_delete(editor_admin):
    instance = AgentInstanceFactory()

    listing = editor_admin.get(CHANGELIST)
    run_action(editor_admin, "delete_selected", instance, post="yes")
    delete_view = editor_admin.post(f"{CHANGELIST}{instance.pk}/delete/", {"post": "yes"})

    assert b'value="delete_selected"' not in listing.content
    assert b'value="soft_delete_selected"' in listing.content
    assert delete_view.status_code == 403
    assert AgentInstance.objects.filter(pk=instance.pk).exists()


def test_a_viewer_cannot_open_the_admin(viewer):
    client = Client()
    client.force_login(viewer)

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
