"""The asynchronous client: ``AsyncConductor``, the twin of :class:`Conductor`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Self

import httpx
from httpx_sse import aconnect_sse

from conductor_client import _core as core
from conductor_client._core import Call, Collection, Id, Json
from conductor_client.errors import ConnectionFailed
from conductor_client.events import RunEvent, SeqCursor, SeqJump


class AsyncConductor:
    """A Conductor API client for asyncio; see :class:`conductor_client.Conductor`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self._http = httpx.AsyncClient(**core.client_options(base_url, token, timeout, transport))
        self._retry = core.RetryPolicy(max_retries)
        self.agents = AsyncCollectionResource(self, Collection("agents"))
        self.screenplays = AsyncCollectionResource(self, Collection("screenplays"))
        self.personas = AsyncCollectionResource(self, Collection("personas"))
        self.conversations = AsyncCollectionResource(self, Collection("conversations"))
        self.runs = AsyncRunsResource(self)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def me(self) -> Json:
        """The user the token belongs to: the cheapest check of a token."""
        return await self.send(core.ME)

    async def request(
        self, method: str, path: str, *, params: Json | None = None, json: Any = None
    ) -> Any:
        return await self.send(Call(method.upper(), path.lstrip("/"), params or {}, json))

    async def send(self, call: Call) -> Any:
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, call.path, **call.send_kwargs())
            except httpx.TransportError as exc:
                delay = self._retry.after_error(call, attempt)
                if delay is None:
                    raise core.connection_failed(self._http.base_url.join(call.path), exc) from exc
            else:
                delay = self._retry.after_response(response, attempt)
                if delay is None:
                    return core.decode(response)
            attempt += 1
            await asyncio.sleep(delay)

    async def send_paginated(self, call: Call, limit: int | None = None) -> list[Json]:
        pages = core.Pages(call, limit)
        while pages.call is not None:
            page = pages.call
            pages.add(page, await self.send(page))
        return pages.items

    async def follow(
        self, run_id: Id, *, after: int, max_reconnects: int, deadline: float | None
    ) -> AsyncIterator[RunEvent]:
        path = core.run_events_path(run_id)
        cursor = SeqCursor(after)
        budget = core.Reconnects(str(self._http.base_url.join(path)), max_reconnects, deadline)
        while True:
            try:
                async for event in self._stream_once(path, cursor, budget):
                    yield event
                    if event.is_terminal:
                        return
                delay = budget.failed(None)
            except SeqJump as exc:
                delay = budget.jumped(cursor.last, exc)
            except core.StreamRefused as exc:
                delay = budget.refused(exc.response)
            except httpx.TransportError as exc:
                delay = budget.failed(exc)
            await asyncio.sleep(delay)

    async def _stream_once(
        self, path: str, cursor: SeqCursor, budget: core.Reconnects
    ) -> AsyncIterator[RunEvent]:
        timeout = budget.read_timeout(self.timeout)
        async with aconnect_sse(
            self._http, "GET", path, headers=cursor.resume_headers, timeout=timeout
        ) as source:
            if source.response.is_error:
                await source.response.aread()
                raise core.StreamRefused(source.response)
            async for sse in source.aiter_sse():
                event = cursor.accept(sse)
                if event is not None:
                    budget.delivered()
                    yield event


class AsyncCollectionResource:
    def __init__(self, client: AsyncConductor, collection: Collection) -> None:
        self._client = client
        self._collection = collection

    async def list(self, *, limit: int | None = None, **filters: Any) -> list[Json]:
        return await self._client.send_paginated(self._collection.list(filters), limit)

    async def get(self, item: Id) -> Json:
        return await self._client.send(self._collection.get(item))

    async def create(self, **fields: Any) -> Json:
        return await self._client.send(self._collection.create(fields))

    async def update(self, item: Id, **fields: Any) -> Json:
        return await self._client.send(self._collection.update(item, fields))

    async def delete(self, item: Id) -> None:
        await self._client.send(self._collection.delete(item))


class AsyncRunsResource:
    def __init__(self, client: AsyncConductor) -> None:
        self._client = client

    async def create(self, agent: str, input: str, **options: Any) -> Json:
        return await self._client.send(core.run_create(agent, input, options))

    async def list(
        self, *, status: str | None = None, limit: int | None = None, **filters: Any
    ) -> list[Json]:
        return await self._client.send_paginated(core.run_list(status, filters), limit)

    async def get(self, run_id: Id) -> Json:
        return await self._client.send(core.RUNS.get(run_id))

    async def cancel(self, run_id: Id) -> Json:
        return await self._client.send(core.run_cancel(run_id))

    async def approve(
        self, run_id: Id, approval_id: Id, decision: str = "approve", reason: str = ""
    ) -> Json:
        return await self._client.send(core.run_approve(run_id, approval_id, decision, reason))

    def stream(
        self, run_id: Id, *, after: int = 0, max_reconnects: int = core.DEFAULT_RECONNECTS
    ) -> AsyncIterator[RunEvent]:
        """``async for`` the run's events after seq ``after``, each once, to the terminal one."""
        return self._client.follow(
            run_id, after=after, max_reconnects=max_reconnects, deadline=None
        )

    # The same signature as Conductor.runs.wait, so not asyncio.timeout.
    async def wait(self, run_id: Id, timeout: float | None = None) -> Json:  # noqa: ASYNC109
        deadline = core.deadline_after(timeout)
        try:
            async for _ in self._client.follow(
                run_id, after=0, max_reconnects=core.DEFAULT_RECONNECTS, deadline=deadline
            ):
                pass
        except ConnectionFailed:
            return await self._poll(run_id, deadline)
        return await self.get(run_id)

    async def _poll(self, run_id: Id, deadline: float | None) -> Json:
        # Polling is the point: nothing else can tell this process that the run ended.
        while not core.is_finished(run := await self.get(run_id)):  # noqa: ASYNC110
            await asyncio.sleep(core.poll_pause(deadline, run_id))
        return run
