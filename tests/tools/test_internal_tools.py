import pytest

from apps.runs.models import Run
from apps.runtime.tools import ToolContext, execute_tool, registry
from tests.factories import (
    AgentFactory,
    ConversationFactory,
    MessageFactory,
    RunFactory,
    ScreenplayFactory,
    UserFactory,
)
from tests.fakes import llm_server as llm


def call(name: str, arguments: dict, *, run: Run | None = None, user=None) -> object:
    context = ToolContext(
        run_id=str(run.pk) if run else "",
        user_id=user.pk if user else (run.created_by_id if run else None),
        cwd="/srv",
    )
    return execute_tool(registry, name, arguments, context)


def make_run(user, **fields) -> Run:
    return RunFactory(created_by=user, **fields)


@pytest.mark.django_db
def test_get_screenplay_reads_one_by_id_or_name():
    screenplay = ScreenplayFactory(name="Launch plan", content="# Launch\n\nShip it.\n")

    by_id = call("get_screenplay", {"id": screenplay.pk})
    by_name = call("get_screenplay", {"name": "Launch plan"})
    missing = call("get_screenplay", {"id": 999999})

    assert by_id.success
    assert by_id.result["content"] == "# Launch\n\nShip it.\n"
    assert by_name.result["id"] == screenplay.pk
    assert not missing.success


@pytest.mark.django_db
def test_get_screenplay_does_not_see_deleted_ones():
    screenplay = ScreenplayFactory(deleted=True)

    assert not call("get_screenplay", {"id": screenplay.pk}).success


@pytest.mark.django_db
def test_search_screenplays_finds_by_content():
    ScreenplayFactory(name="Billing", content="# Billing\n\nInvoices and refunds.\n")
    ScreenplayFactory(name="Hiring", content="# Hiring\n\nInterviews.\n")

    found = call("search_screenplays", {"query": "refunds"})

    assert [item["name"] for item in found.result] == ["Billing"]


@pytest.mark.django_db
def test_conversation_history_defaults_to_the_runs_conversation():
    owner = UserFactory()
    conversation = ConversationFactory(created_by=owner)
    MessageFactory(conversation=conversation, content="first")
    MessageFactory(conversation=conversation, content="second")
    run = make_run(owner, conversation=conversation)

    history = call("get_conversation_history", {}, run=run)

    assert [message["content"] for message in history.result] == ["first", "second"]


@pytest.mark.django_db
def test_a_run_cannot_read_another_users_conversation():
    owner, intruder = UserFactory(), UserFactory()
    private = ConversationFactory(created_by=owner)
    MessageFactory(conversation=private, content="secret plans")
    run = make_run(intruder)

    result = call("get_conversation_history", {"conversation_id": private.pk}, run=run)

    assert not result.success
    assert "secret plans" not in str(result)


@pytest.mark.django_db
def test_bad_arguments_are_observations_not_crashes():
    result = call("search_screenplays", {"query": ""})

    assert not result.success
    assert "invalid arguments" in result.error


@pytest.mark.django_db(transaction=True)
def test_delegation_runs_a_child_and_returns_its_answer(fake_llm, settings):
    settings.CONDUCTOR_LLM_NUM_RETRIES = 0
    owner = UserFactory()
    helper = AgentFactory(slug="helper", model="gpt-4o-mini")
    parent = make_run(owner)
    fake_llm.script(llm.text("Child answer."))

    result = call("delegate_to_agent", {"agent": "helper", "input": "sub-task"}, run=parent)

    assert result.success, result
    assert result.result["answer"] == "Child answer."
    child = Run.objects.get(pk=result.result["run_id"])
    assert (child.parent_run_id, child.delegation_depth, child.agent) == (parent.pk, 1, helper)
    assert child.status == "succeeded"


@pytest.mark.django_db
def test_delegation_past_max_chain_depth_fails_clearly():
    owner = UserFactory()
    AgentFactory(slug="helper")
    conversation = ConversationFactory(created_by=owner, max_chain_depth=2)
    parent = make_run(owner, conversation=conversation, delegation_depth=2)

    result = call("delegate_to_agent", {"agent": "helper", "input": "deeper"}, run=parent)

    assert not result.success
    assert result.error == "delegation depth 3 would exceed max_chain_depth 2"
    assert Run.objects.count() == 1


@pytest.mark.django_db
def test_delegation_to_an_unknown_agent_fails_clearly():
    parent = make_run(UserFactory())

    result = call("delegate_to_agent", {"agent": "nobody", "input": "x"}, run=parent)

    assert not result.success
    assert "nobody" in result.error


def test_every_internal_tool_is_registered():
    names = set(registry.names())

    assert {
        "list_agents",
        "get_screenplay",
        "search_screenplays",
        "get_conversation_history",
        "delegate_to_agent",
    } <= names
