"""Errors and retries, against an ``httpx.MockTransport``: no server needed."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from conductor_client import (
    AsyncConductor,
    AuthenticationError,
    Conductor,
    ConflictError,
    ConnectionFailed,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    ValidationError,
)

BASE = "http://conductor.test"
Handler = Callable[[httpx.Request], httpx.Response]


def envelope(status: int, code: str, message: str, details: object = None, **headers: str):
    body = {"error": {"code": code, "message": message, "details": details}}
    return httpx.Response(status, json=body, headers=headers)


def answers(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler giving ``responses`` in turn (the last one for ever), and its requests."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return handle, seen


def client_for(handler: Handler, **options: object) -> Conductor:
    return Conductor(BASE, "key", transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


def throttled(after: str = "0") -> httpx.Response:
    return envelope(
        429, "throttled", "Request was throttled.", {"retry_after": 0}, **{"Retry-After": after}
    )


def test_a_429_is_retried_after_retry_after_then_succeeds():
    handler, seen = answers(throttled(), throttled(), httpx.Response(200, json={"slug": "a"}))

    with client_for(handler) as client:
        agent = client.agents.get("a")

    assert agent == {"slug": "a"}
    assert len(seen) == 3
    assert seen[0].headers["Authorization"] == "Token key"


async def test_the_async_client_retries_a_429_too():
    handler, seen = answers(throttled(), httpx.Response(202, json={"id": "r1", "status": "queued"}))

    async with AsyncConductor(BASE, "key", transport=httpx.MockTransport(handler)) as client:
        run = await client.runs.create("a", "hi", cwd="/srv")

    assert run["status"] == "queued"
    assert len(seen) == 2
    assert json.loads(seen[1].content) == {"agent": "a", "input": "hi", "cwd": "/srv"}


def test_too_many_429s_raise_rate_limited_with_retry_after():
    handler, seen = answers(throttled("0"))

    with client_for(handler, max_retries=2) as client, pytest.raises(RateLimitedError) as raised:
        client.runs.list()

    assert len(seen) == 3
    assert raised.value.retry_after == 0.0
    assert raised.value.status_code == 429
    assert raised.value.code == "throttled"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (503, ServerError),
    ],
)
def test_each_status_raises_its_error_with_the_envelope(status, error):
    handler, _ = answers(envelope(status, "some_code", "Something.", {"field": ["bad"]}))

    with client_for(handler) as client, pytest.raises(error) as raised:
        client.personas.get(1)

    assert raised.value.status_code == status
    assert raised.value.code == "some_code"
    assert raised.value.details == {"field": ["bad"]}
    assert raised.value.response.status_code == status


def test_a_non_json_error_still_says_what_happened():
    handler, _ = answers(httpx.Response(502, text="<html><h1>Bad Gateway</h1></html>"))

    with client_for(handler) as client, pytest.raises(ServerError) as raised:
        client.runs.get("r1")

    assert "502" in str(raised.value)
    assert "Bad Gateway" in str(raised.value)
    assert f"{BASE}/api/runs/r1/" in str(raised.value)


def test_a_post_that_got_a_5xx_is_not_retried():
    handler, seen = answers(envelope(503, "service_unavailable", "Down."))

    with client_for(handler) as client, pytest.raises(ServerError):
        client.runs.cancel("r1")

    assert len(seen) == 1


def test_a_get_whose_connection_failed_is_retried():
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"count": 0, "next": None, "results": []})

    with client_for(flaky) as client:
        assert client.screenplays.list() == []

    assert len(calls) == 2


def test_an_unreachable_server_is_connection_failed_naming_the_url():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with client_for(refuse, max_retries=0) as client, pytest.raises(ConnectionFailed) as raised:
        client.agents.list()

    assert f"{BASE}/api/agents/" in str(raised.value)


def test_list_follows_every_page():
    def pages(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        following = f"http://elsewhere.example/api/agents/?page={page + 1}" if page < 3 else None
        return httpx.Response(200, json={"count": 3, "next": following, "results": [{"n": page}]})

    with client_for(pages) as client:
        assert client.agents.list() == [{"n": 1}, {"n": 2}, {"n": 3}]
        assert client.agents.list(limit=2) == [{"n": 1}, {"n": 2}]
