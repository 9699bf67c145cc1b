from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from apps.agents.models import Agent
from apps.runs import services
from apps.runs.models import Run, RunSource
from apps.runs.tasks import execute_run
from tests.factories import AgentFactory
from tests.fakes import llm_server as llm
from tests.runs.conftest import NATIVE_MODEL

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("eager_celery", "native_agent"),
]

PAYLOADS: dict[str, dict[str, Any]] = {
    "input": {"input": "Say hello"},
    "command": {"command": "Say hello"},
    "textEntries": {
        "textEntries": [{"content": "Say hello", "type": "text"}],
        "metadata": {"source": "seed-frontend"},
    },
}
JOB_ID = r"job_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def payload(fmt: str = "input", **extra: Any) -> dict[str, Any]:
    return {**PAYLOADS[fmt], "agent_id": "native", "cwd": "/srv/project", **extra}


async def streamed(response: Any) -> str:
    """The whole body of an async view's streaming response."""
    return b"".join([chunk async for chunk in response.streaming_content]).decode()


def read_stream(user: Any, path: str) -> tuple[Any, str]:
    """GETs the async stream view as ``user`` (None: anonymous) and reads it to its end."""

    async def read() -> tuple[Any, str]:
        client = AsyncClient()
        if user is not None:
            await client.aforce_login(user)
        response = await client.get(path)
        if not response.streaming:
            return response, response.content.decode()
        return response, await streamed(response)

    return async_to_sync(read)()


def seed_events(body: str) -> list[dict[str, Any]]:
    lines = [line for line in body.split("\n") if line]
    assert body.endswith("\n\n")
    assert all(line.startswith("data: ") for line in lines), lines
    events = [json.loads(line.removeprefix("data: ")) for line in lines]
    for event in events:
        assert set(event) == {"event", "data", "timestamp", "job_id"}, event
    return events


def stream_of(client: Any, user: Any, body: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    started = client.post("/api/v1/stream-execute", body, format="json")
    assert started.status_code == 200, started.content
    response, text = read_stream(user, started.json()["stream_url"])
    assert response.status_code == 200, text
    return started.json()["job_id"], seed_events(text)


# --- The three formats on the three routes --------------------------------------


@pytest.mark.parametrize("fmt", sorted(PAYLOADS))
def test_execute_runs_each_payload_format_to_its_result(viewer_client, fake_llm, fmt):
    fake_llm.script(llm.text("Hello!"))

    response = viewer_client.post("/execute", payload(fmt), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["result"] == "Hello!"
    assert body["duration_ms"] >= 0
    run = Run.objects.get(pk=body["run_id"])
    assert run.input == "Say hello"
    assert run.source == RunSource.API
    assert "error" not in body


@pytest.mark.parametrize("fmt", sorted(PAYLOADS))
def test_stream_execute_accepts_each_payload_format(viewer_client, fake_llm, fmt):
    fake_llm.script(llm.text("Hello!"))

    response = viewer_client.post("/api/v1/stream-execute", payload(fmt), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"job_id", "status", "stream_url"}
    assert body["status"] == "started"
    assert body["job_id"].startswith("job_")
    assert body["stream_url"] == f"/api/v1/stream/{body['job_id']}"
    run = Run.objects.get(pk=body["job_id"].removeprefix("job_"))
    assert run.input == "Say hello"


@pytest.mark.parametrize("fmt", sorted(PAYLOADS))
def test_the_stream_of_each_payload_format_ends_with_the_result(
    viewer, viewer_client, fake_llm, fmt
):
    fake_llm.script(llm.text("Hello!"))

    job_id, events = stream_of(viewer_client, viewer, payload(fmt))

    assert [e["event"] for e in events] == [
        "job_started", "status_update", "result", "end_of_stream",
    ]  # fmt: skip
    assert events[1]["data"]["message"] == "Model replied"
    assert events[2]["data"] == {"result": "Hello!", "message": "Job completed"}
    assert {e["job_id"] for e in events} == {job_id}


# --- The exact line format ------------------------------------------------------


def test_a_succeeded_run_streams_started_updates_result_and_end(viewer, viewer_client, fake_llm):
    fake_llm.script(llm.tool_call("echo", {"text": "hi"}), llm.text("The tool said hi."))

    job_id, events = stream_of(viewer_client, viewer, payload())

    assert [e["event"] for e in events] == [
        "job_started", "status_update", "status_update", "status_update", "status_update",
        "result", "end_of_stream",
    ]  # fmt: skip
    assert events[2]["data"] == {"stage": "tool", "message": "Calling tool echo", "tool": "echo"}
    assert events[3]["data"]["message"] == "Tool echo succeeded"
    assert events[-2]["data"]["result"] == "The tool said hi."
    assert re.fullmatch(JOB_ID, job_id)
    assert all(e["job_id"] == job_id for e in events)
    assert all(isinstance(e["timestamp"], str) and "T" in e["timestamp"] for e in events)


def test_the_stream_has_data_lines_only_and_no_cache_headers(viewer, viewer_client, fake_llm):
    fake_llm.script(llm.text("Hello!"))
    started = viewer_client.post("/api/v1/stream-execute", payload(), format="json").json()

    response, text = read_stream(viewer, started["stream_url"])

    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    assert "event:" not in text.replace('"event":', "")
    assert all(line.startswith("data: {") for line in text.split("\n") if line)
    assert text.count("\n\n") == 4


def test_a_failed_run_streams_an_error_then_the_end(viewer, viewer_client, fake_llm):
    fake_llm.script(llm.error(500))

    _, events = stream_of(viewer_client, viewer, payload())

    assert [e["event"] for e in events][-2:] == ["error", "end_of_stream"]
    assert events[0]["event"] == "job_started"
    error = events[-2]["data"]
    assert set(error) == {"error", "status"}
    assert error["status"] == "failed"
    assert error["error"]


def test_execute_answers_200_with_the_error_of_a_failed_run(viewer_client, fake_llm):
    fake_llm.script(llm.error(500))

    response = viewer_client.post("/execute", payload(), format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    assert response.json()["error"]


async def test_the_stream_follows_a_live_run_to_its_end(viewer, fake_llm):
    fake_llm.script(llm.tool_call("echo", {"text": "hi"}), llm.text("Live."))
    agent = await Agent.objects.aget(slug="native")
    request = services.RunRequest(agent=agent, input="Go", cwd="/srv/project")
    start = sync_to_async(services.run_start)
    run = await start(request=request, actor=viewer, source=RunSource.API, enqueue=False)
    client = AsyncClient()
    await client.aforce_login(viewer)
    response = await client.get(f"/api/v1/stream/job_{run.pk}")

    reader = asyncio.create_task(streamed(response))
    await asyncio.sleep(0.2)
    assert not reader.done()
    await sync_to_async(execute_run, thread_sensitive=False)(str(run.pk))
    events = seed_events(await asyncio.wait_for(reader, timeout=10))

    names = [e["event"] for e in events]
    assert names[0] == "job_started"
    assert names[-2:] == ["result", "end_of_stream"]
    assert names.count("result") == 1
    assert events[-2]["data"]["result"] == "Live."


# --- Agents, auth and job ids ---------------------------------------------------


def test_a_payload_without_agent_id_runs_the_default_agent(viewer_client, fake_llm, settings):
    settings.CONDUCTOR_COMPAT_DEFAULT_AGENT = "helper"
    AgentFactory(slug="helper", model=NATIVE_MODEL)
    fake_llm.script(llm.text("Default here."))
    body = {"input": "Hi", "cwd": "/srv/project", "ai_provider": "openai"}

    response = viewer_client.post("/execute", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["result"] == "Default here."
    assert Run.objects.get(pk=response.json()["run_id"]).agent.slug == "helper"


@pytest.mark.parametrize("route", ["/execute", "/api/v1/stream-execute"])
def test_an_unknown_agent_is_a_400_envelope(viewer_client, route):
    response = viewer_client.post(route, payload(agent_id="nobody"), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "agent_id" in response.json()["error"]["details"]
    assert not Run.objects.exists()


def test_a_missing_default_agent_is_a_400_envelope(viewer_client, settings):
    settings.CONDUCTOR_COMPAT_DEFAULT_AGENT = "missing"

    response = viewer_client.post("/execute", {"input": "Hi", "cwd": "/srv"}, format="json")

    assert response.status_code == 400
    assert "agent_id" in response.json()["error"]["details"]


@pytest.mark.parametrize("route", ["/execute", "/api/v1/stream-execute"])
def test_two_payload_formats_at_once_are_a_400_envelope(viewer_client, route):
    body = {**payload("input"), "command": "also this"}

    response = viewer_client.post(route, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("route", ["/execute", "/api/v1/stream-execute"])
def test_anonymous_posts_are_a_401_envelope(api_client, route):
    response = api_client.post(route, payload(), format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_anonymous_stream_is_a_401_envelope(viewer, viewer_client, fake_llm):
    fake_llm.script(llm.text("Hello!"))
    started = viewer_client.post("/api/v1/stream-execute", payload(), format="json").json()

    response, text = read_stream(None, started["stream_url"])

    assert response.status_code == 401
    assert json.loads(text)["error"]["code"] == "not_authenticated"


def test_a_token_authenticates_the_stream(viewer, viewer_client, fake_llm):
    from rest_framework.authtoken.models import Token

    fake_llm.script(llm.text("Hello!"))
    started = viewer_client.post("/api/v1/stream-execute", payload(), format="json").json()
    token = Token.objects.create(user=viewer)

    async def read() -> Any:
        headers = {"Authorization": f"Token {token.key}"}
        response = await AsyncClient().get(started["stream_url"], headers=headers)
        return await streamed(response)

    events = seed_events(async_to_sync(read)())
    assert events[-1]["event"] == "end_of_stream"


def test_a_bad_token_on_the_stream_is_a_401_envelope(viewer_client, fake_llm):
    fake_llm.script(llm.text("Hello!"))
    started = viewer_client.post("/api/v1/stream-execute", payload(), format="json").json()

    async def read() -> Any:
        headers = {"Authorization": "Token not-a-real-token"}
        return await AsyncClient().get(started["stream_url"], headers=headers)

    response = async_to_sync(read)()

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert json.loads(response.content)["error"]["code"] == "authentication_failed"


def test_another_users_job_is_a_404_envelope(viewer_client, other_user, fake_llm):
    fake_llm.script(llm.text("Mine."))
    started = viewer_client.post("/api/v1/stream-execute", payload(), format="json").json()

    response, text = read_stream(other_user, started["stream_url"])

    assert response.status_code == 404
    assert json.loads(text)["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "job_id", ["nonsense", f"job_{uuid.uuid4()}", "job_not-a-uuid", str(uuid.uuid4())]
)
def test_a_malformed_or_unknown_job_id_is_a_404_envelope(viewer, job_id):
    response, text = read_stream(viewer, f"/api/v1/stream/{job_id}")

    assert response.status_code == 404
    assert json.loads(text)["error"]["code"] == "not_found"
