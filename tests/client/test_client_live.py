"""The client against a live ``manage.py serve``: runs, streams, errors, resources."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conductor_client import (
    AsyncConductor,
    AuthenticationError,
    Conductor,
    NotFoundError,
    ValidationError,
    WaitTimeout,
)
from tests.client.conftest import LiveServer
from tests.fakes import llm_server as llm

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


@pytest.fixture
def client(live_server: LiveServer, fake_llm_live: llm.FakeLLMServer) -> Iterator[Conductor]:
    with Conductor(live_server.url, live_server.token, timeout=10) as conductor:
        yield conductor


def test_it_creates_a_run_and_streams_it_to_the_end(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.text("All done.", chunks=3))

    run = client.runs.create(live_server.echo_agent, "Say something", cwd=live_server.cwd)
    events = list(client.runs.stream(run["id"]))

    assert run["status"] == "queued"
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[-1].event == "run.succeeded"
    assert events[-1].is_terminal
    assert all(event.run_id == run["id"] for event in events)
    assert client.runs.get(run["id"])["result"] == "All done."


async def test_the_async_client_streams_a_run_to_the_end(live_server, fake_llm_live):
    fake_llm_live.script(llm.text("Async done."))

    async with AsyncConductor(live_server.url, live_server.token, timeout=10) as client:
        run = await client.runs.create(live_server.echo_agent, "Say something", cwd=live_server.cwd)
        events = [event async for event in client.runs.stream(run["id"])]
        finished = await client.runs.wait(run["id"], timeout=10)

    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[-1].event == "run.succeeded"
    assert finished["status"] == "succeeded"
    assert finished["result"] == "Async done."


def test_streaming_after_a_seq_gives_only_the_later_events(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.text("Done."))
    run = client.runs.create(live_server.echo_agent, "Hi", cwd=live_server.cwd)
    everything = list(client.runs.stream(run["id"]))

    rest = list(client.runs.stream(run["id"], after=2))

    assert rest == everything[2:]


def test_wait_returns_the_finished_run(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.text("Waited for."))

    run = client.runs.wait(
        client.runs.create(live_server.echo_agent, "Hi", cwd=live_server.cwd)["id"], timeout=15
    )

    assert run["status"] == "succeeded"
    assert run["result"] == "Waited for."


def test_wait_raises_wait_timeout_when_the_run_outlasts_it(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.slow(5, llm.text("Too late.")))
    run = client.runs.create(live_server.echo_agent, "Take your time", cwd=live_server.cwd)

    with pytest.raises(WaitTimeout):
        client.runs.wait(run["id"], timeout=0.5)

    assert client.runs.cancel(run["id"])["id"] == run["id"]


def test_cancel_ends_the_run_as_cancelled(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.slow(5, llm.text("Never seen.")))
    run = client.runs.create(live_server.echo_agent, "Work slowly", cwd=live_server.cwd)

    client.runs.cancel(run["id"])
    events = list(client.runs.stream(run["id"]))

    assert events[-1].event == "run.cancelled"
    assert client.runs.get(run["id"])["status"] == "cancelled"


def test_approve_lets_a_paused_run_finish(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.tool_call("sql_query", {"query": "SELECT 1"}), llm.text("Counted."))
    run = client.runs.create(live_server.careful_agent, "Query it", cwd=live_server.cwd)

    required = next(e for e in client.runs.stream(run["id"]) if e.event == "approval.required")
    approval_id = client.runs.get(run["id"])["approvals"][0]["id"]
    decided = client.runs.approve(run["id"], approval_id, "approve", reason="fine")
    finished = client.runs.wait(run["id"], timeout=15)

    assert required.data
    assert decided["status"] == "approved"
    assert finished["status"] == "succeeded"
    assert finished["result"] == "Counted."


def test_list_filters_runs_by_status(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.text("Listed."))
    run = client.runs.wait(
        client.runs.create(live_server.echo_agent, "Hi", cwd=live_server.cwd)["id"], timeout=15
    )

    succeeded = client.runs.list(status="succeeded")

    assert run["id"] in [item["id"] for item in succeeded]
    assert {item["status"] for item in succeeded} == {"succeeded"}
    assert len(client.runs.list(limit=1)) == 1


def test_a_bad_token_is_an_authentication_error_that_says_so(live_server):
    with (
        Conductor(live_server.url, "not-a-token") as client,
        pytest.raises(AuthenticationError) as raised,
    ):
        client.agents.list()

    assert raised.value.status_code == 401
    assert "token" in str(raised.value).lower()


def test_another_users_run_is_not_found(client, live_server, fake_llm_live):
    fake_llm_live.script(llm.text("Mine."))
    run = client.runs.create(live_server.echo_agent, "Mine", cwd=live_server.cwd)
    stranger = live_server.make_user()

    with Conductor(live_server.url, stranger) as other:
        with pytest.raises(NotFoundError):
            other.runs.get(run["id"])
        with pytest.raises(NotFoundError):
            next(other.runs.stream(run["id"]))
    client.runs.wait(run["id"], timeout=15)


def test_bad_input_is_a_validation_error_with_details(client, live_server):
    with pytest.raises(ValidationError) as raised:
        client.runs.create(live_server.echo_agent, "Hi", cwd=live_server.cwd, max_steps=0)

    assert raised.value.status_code == 400
    assert "max_steps" in raised.value.details


def test_agents_are_listed_and_fetched(client, live_server):
    slugs = [agent["slug"] for agent in client.agents.list()]

    assert live_server.echo_agent in slugs
    assert client.agents.get(live_server.echo_agent)["slug"] == live_server.echo_agent


def test_screenplays_round_trip(client):
    created = client.screenplays.create(name="Client screenplay", content="# Steps\n")
    updated = client.screenplays.update(created["id"], description="Changed")
    listed = client.screenplays.list()
    client.screenplays.delete(created["id"])

    assert updated["description"] == "Changed"
    assert created["id"] in [item["id"] for item in listed]
    with pytest.raises(NotFoundError):
        client.screenplays.get(created["id"])


def test_personas_round_trip(client):
    created = client.personas.create(name="Client persona", content="Be brief.")
    updated = client.personas.update(created["id"], content="Be briefer.")
    fetched = client.personas.get(created["id"])
    client.personas.delete(created["id"])

    assert updated["content"] == fetched["content"] == "Be briefer."
    with pytest.raises(NotFoundError):
        client.personas.get(created["id"])


def test_conversations_round_trip(client):
    created = client.conversations.create(title="Client conversation")
    updated = client.conversations.update(created["id"], title="Renamed")
    listed = client.conversations.list()
    client.conversations.delete(created["id"])

    assert updated["title"] == "Renamed"
    assert created["id"] in [item["id"] for item in listed]
    with pytest.raises(NotFoundError):
        client.conversations.get(created["id"])
