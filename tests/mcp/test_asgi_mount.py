"""The MCP endpoint inside the project's ASGI app: routing, and starting its session manager."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from apps.mcp.http import McpApp


class LifespanRecorder:
    """A stand-in for the SDK app: records its lifespan, answers requests with 204."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            self.log.append("started")
            await send({"type": "lifespan.startup.complete"})
            await receive()
            self.log.append("stopped")
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def recording_app(log: list[str]) -> McpApp:
    def build() -> LifespanRecorder:
        log.append("built")
        return LifespanRecorder(log)

    return McpApp(build)


async def get_many(app: McpApp, count: int) -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(*(client.post("/mcp") for _ in range(count)))
    return [response.status_code for response in responses]


async def test_without_lifespan_events_the_first_requests_start_it_once():
    log: list[str] = []

    statuses = await get_many(recording_app(log), 5)

    assert statuses == [204] * 5
    assert log == ["built", "started"]


async def test_a_server_that_speaks_lifespan_starts_and_stops_it():
    log: list[str] = []
    app = recording_app(log)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await get_many(app, 2)
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan

    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert log == ["built", "started", "stopped"]


def test_each_event_loop_gets_a_session_manager_of_its_own():
    log: list[str] = []
    app = recording_app(log)

    asyncio.run(get_many(app, 1))
    asyncio.run(get_many(app, 1))

    assert log == ["built", "started", "built", "started"]


async def test_the_project_app_sends_mcp_to_the_sdk_and_the_rest_to_django():
    from conductor_site.asgi import application

    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        with_slash = await client.post("/mcp/", json={})
        without = await client.post("/mcp", json={})
        api = await client.get("/api/agents/")

    assert with_slash.status_code == without.status_code == 401
    assert with_slash.json()["error"] == "invalid_token"
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "not_authenticated"
