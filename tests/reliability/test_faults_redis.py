"""Redis going away: restarted under 50 live event streams, and down for a while.

Redis carries the broker, the channel layer and the cache, never a record: the event log
is in PostgreSQL. So a restart may cost live delivery but no event, and while it is down
everything that only reads or writes the database goes on; starting a run cannot (it
needs the broker) and says so with a 503, leaving nothing behind.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
import pytest
from httpx_sse import aconnect_sse

from apps.runs import events
from tests.fakes import llm_server as llm
from tests.reliability import _faults
from tests.reliability._faults import (
    AGENT,
    AGENT_TOOL,
    RUN_CWD,
    STAFF_PASSWORD,
    STAFF_TOKEN,
    STAFF_USERNAME,
    Conductor,
    RedisServer,
    conductor,
)

pytestmark = [pytest.mark.slow, pytest.mark.faults]

services = _faults.services  # the private Redis and PostgreSQL (a fixture)

STREAM_CLIENTS = 50
TOOL_STEPS = 8
STEP_SECONDS = 0.6  # the fake LLM's think time: the run spans the whole outage
OUTAGE_SECONDS = 2.0
RECONNECT_DELAY = 0.2


# --- Redis restarted while 50 clients stream ------------------------------------------


@dataclass
class Follower:
    """One SSE client of a run: what it received, and how often it had to come back."""

    drops_on_outage: bool
    received: list[tuple[int, str]] = field(default_factory=list)
    resumed_from: list[int] = field(default_factory=list)
    failed_attempts: int = 0
    dropped: bool = False
    streaming: asyncio.Event = field(default_factory=asyncio.Event)  # past the run's start

    @property
    def last_id(self) -> int:
        return self.received[-1][0] if self.received else 0

    @property
    def finished(self) -> bool:
        return bool(self.received) and self.received[-1][1] in events.TERMINAL_EVENTS

    async def follow(self, client: httpx.AsyncClient, run_id: str, outage: asyncio.Event) -> None:
        """Reads the stream to its end, reconnecting with Last-Event-ID as a browser does."""
        while not self.finished:
            headers = {}
            if self.received:
                headers["Last-Event-ID"] = str(self.last_id)
                self.resumed_from.append(self.last_id)
            try:
                await self._read(client, run_id, headers, outage)
            except httpx.HTTPError:
                self.failed_attempts += 1
            if not self.finished:
                await asyncio.sleep(RECONNECT_DELAY)

    async def _read(
        self, client: httpx.AsyncClient, run_id: str, headers: dict, outage: asyncio.Event
    ) -> None:
        path = f"/api/runs/{run_id}/events/"
        async with aconnect_sse(client, "GET", path, headers=headers) as source:
            if source.response.status_code != 200:
                self.failed_attempts += 1
                return
            async for sse in source.aiter_sse():
                if not sse.data:  # the stream's opening "retry:" field
                    continue
                self.received.append((int(sse.id), sse.event))
                if sse.event == events.TOOL_RESULT:
                    self.streaming.set()
                if self.finished:
                    return
                if self.drops_on_outage and outage.is_set() and not self.dropped:
                    # Its network blipped with Redis: it hangs up and comes back.
                    self.dropped = True
                    return


async def _restart_redis_midway(
    redis: RedisServer, followers: list[Follower], outage: asyncio.Event
) -> None:
    """Once every client is streaming the run's tool steps, Redis goes away for a while."""
    await asyncio.gather(*(follower.streaming.wait() for follower in followers))
    await asyncio.to_thread(redis.stop)
    outage.set()
    await asyncio.sleep(OUTAGE_SECONDS)
    await asyncio.to_thread(redis.start)


async def _stream_through_a_restart(
    app: Conductor, run_id: str, redis: RedisServer
) -> tuple[list[Follower], bool]:
    followers = [Follower(drops_on_outage=n % 2 == 0) for n in range(STREAM_CLIENTS)]
    outage = asyncio.Event()
    limits = httpx.Limits(max_connections=STREAM_CLIENTS * 2)
    headers = {"Authorization": f"Token {STAFF_TOKEN}"}
    async with httpx.AsyncClient(
        base_url=app.base, headers=headers, limits=limits, timeout=15
    ) as client:
        restart = asyncio.create_task(_restart_redis_midway(redis, followers, outage))
        await asyncio.wait_for(
            asyncio.gather(*(f.follow(client, run_id, outage) for f in followers)), timeout=90
        )
        restarted_during_the_run = restart.done()
        await restart
    return followers, restarted_during_the_run


def test_fifty_streams_get_every_event_exactly_once_across_a_redis_restart(
    tmp_path, fake_llm, services
):
    steps = [llm.slow(STEP_SECONDS, llm.tool_call(AGENT_TOOL, {})) for _ in range(TOOL_STEPS)]
    fake_llm.script(*steps, llm.slow(STEP_SECONDS, llm.text("All steps done.")))
    with (
        conductor(
            directory=tmp_path,
            services=services,
            llm_base_url=fake_llm.base_url,
        ) as app,
        app.api() as api,
    ):
        app.wait_healthy(workers=True)
        run_id = app.start_run(api)
        followers, restarted_during_the_run = asyncio.run(
            _stream_through_a_restart(app, run_id, services.redis)
        )
        run = app.wait_finished(api, run_id, timeout=30)

    log = services.events(run_id)
    assert run["status"] == "succeeded", app.outputs()
    assert restarted_during_the_run
    assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
    assert log[-1][1] == events.RUN_SUCCEEDED
    assert sum(1 for _, name in log if name == events.TOOL_RESULT) == TOOL_STEPS
    for number, follower in enumerate(followers):
        assert follower.received == log, f"client {number}"
    droppers = [follower for follower in followers if follower.drops_on_outage]
    # Each of them hung up during the outage and resumed where it stopped.
    assert all(follower.dropped and follower.resumed_from for follower in droppers)
    assert all(min(follower.resumed_from) > 0 for follower in droppers)


# --- Redis down ---------------------------------------------------------------------


def test_with_redis_down_crud_works_a_run_start_is_a_clean_503_and_health_names_redis(
    tmp_path, fake_llm, services
):
    with (
        conductor(
            directory=tmp_path,
            services=services,
            llm_base_url=fake_llm.base_url,
            worker=False,
        ) as app,
        app.api() as api,
    ):
        app.wait_healthy(workers=False)
        services.redis.stop()

        login = api.post(
            "/api/auth/token/", data={"username": STAFF_USERNAME, "password": STAFF_PASSWORD}
        )
        persona = api.post("/api/personas/", json={"name": "Calm", "content": "Stay calm."})
        created = api.post(
            "/api/agents/",
            json={
                "slug": "calm",
                "name": "Calm",
                "description": "Takes its time.",
                "model": "gpt-4o-mini",
                "persona": persona.json().get("id"),
            },
        )
        updated = api.patch("/api/agents/calm/", json={"description": "Never hurried."})
        listed = api.get("/api/agents/", params={"search": "calm"})
        started = api.post(f"/api/agents/{AGENT}/run/", json={"input": "Hi", "cwd": RUN_CWD})
        health = httpx.get(f"{app.base}/health", timeout=15)
        runs_left = services.count("runs_run")
        feed_left = services.count("activity_taskevent")

        services.redis.start()
        after_restart = api.post(
            f"/api/agents/{AGENT}/run/", json={"input": "Hi again", "cwd": RUN_CWD}
        )

    assert login.status_code == 200, login.text
    assert login.json()["token"] == STAFF_TOKEN
    assert persona.status_code == 201, persona.text
    assert created.status_code == 201, created.text
    assert updated.status_code == 200, updated.text
    assert [agent["slug"] for agent in listed.json()["results"]] == ["calm"]
    assert started.status_code == 503, started.text
    error = started.json()["error"]
    assert error["code"] == "service_unavailable"
    assert "run was not started" in error["message"]
    assert (runs_left, feed_left) == (0, 0)
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "unavailable"
    assert {"broker", "channel_layer"} <= set(body["failing"])
    redis_at = f"Redis at {services.redis.url()}"
    for check in ("broker", "channel_layer"):
        assert body["checks"][check]["detail"].startswith(f"{redis_at} is unreachable"), body
    assert after_restart.status_code == 202, after_restart.text
