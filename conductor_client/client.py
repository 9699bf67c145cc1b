"""The synchronous client: ``Conductor``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import httpx
from httpx_sse import connect_sse

from conductor_client import _core as core
from conductor_client._core import Call, Collection, Id, Json
from conductor_client.errors import ConnectionFailed
from conductor_client.events import RunEvent, SeqCursor, SeqJump


class Conductor:
    """A Conductor API client; ``token`` is a DRF token (``Authorization: Token <key>``)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self._http = httpx.Client(**core.client_options(base_url, token, timeout, transport))
        self._retry = core.RetryPolicy(max_retries)
        self.agents = CollectionResource(self, Collection("agents"))
        self.screenplays = CollectionResource(self, Collection("screenplays"))
        self.personas = CollectionResource(self, Collection("personas"))
        self.conversations = CollectionResource(self, Collection("conversations"))
        self.runs = RunsResource(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def me(self) -> Json:
        """The user the token belongs to: the cheapest check of a token."""
        return self.send(core.ME)

    def request(
        self, method: str, path: str, *, params: Json | None = None, json: Any = None
    ) -> Any:
        """Any API call, with the client's auth, retries and errors; the decoded JSON."""
        return self.send(Call(method.upper(), path.lstrip("/"), params or {}, json))

    def send(self, call: Call) -> Any:
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, **call.send_kwargs())
            except httpx.TransportError as exc:
                delay = self._retry.after_error(call, attempt)
                if delay is None:
                    raise core.connection_failed(self._http.base_url.join(call.path), exc) from exc
            else:
                delay = self._retry.after_response(response, attempt)
                if delay is None:
                    return core.decode(response)
            attempt += 1
            time.sleep(delay)

    def send_paginated(self, call: Call, limit: int | None = None) -> list[Json]:
        pages = core.Pages(call, limit)
        while pages.call is not None:
            page = pages.call
            pages.add(page, self.send(page))
        return pages.items

    def follow(
        self, run_id: Id, *, after: int, max_reconnects: int, deadline: float | None
    ) -> Iterator[RunEvent]:
        path = core.run_events_path(run_id)
        cursor = SeqCursor(after)
        budget = core.Reconnects(str(self._http.base_url.join(path)), max_reconnects, deadline)
        while True:
            try:
                for event in self._stream_once(path, cursor, budget):
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
            time.sleep(delay)

    def _stream_once(
        self, path: str, cursor: SeqCursor, budget: core.Reconnects
    ) -> Iterator[RunEvent]:
        timeout = budget.read_timeout(self.timeout)
        with connect_sse(
            self._http, "GET", path, headers=cursor.resume_headers, timeout=timeout
        ) as source:
            if source.response.is_error:
                source.response.read()
                raise core.StreamRefused(source.response)
            for sse in source.iter_sse():
                event = cursor.accept(sse)
                if event is not None:
                    budget.delivered()
                    yield event


class CollectionResource:
    def __init__(self, client: Conductor, collection: Collection) -> None:
        self._client = client
        self._collection = collection

    def list(self, *, limit: int | None = None, **filters: Any) -> list[Json]:
        return self._client.send_paginated(self._collection.list(filters), limit)

    def get(self, item: Id) -> Json:
        return self._client.send(self._collection.get(item))

    def create(self, **fields: Any) -> Json:
        return self._client.send(self._collection.create(fields))

    def update(self, item: Id, **fields: Any) -> Json:
        return self._client.send(self._collection.update(item, fields))

    def delete(self, item: Id) -> None:
        self._client.send(self._collection.delete(item))


class RunsResource:
    def __init__(self, client: Conductor) -> None:
        self._client = client

    def create(self, agent: str, input: str, **options: Any) -> Json:
        return self._client.send(core.run_create(agent, input, options))

    def list(
        self, *, status: str | None = None, limit: int | None = None, **filters: Any
    ) -> list[Json]:
        return self._client.send_paginated(core.run_list(status, filters), limit)

    def get(self, run_id: Id) -> Json:
        return self._client.send(core.RUNS.get(run_id))

    def cancel(self, run_id: Id) -> Json:
        return self._client.send(core.run_cancel(run_id))

    def approve(
        self, run_id: Id, approval_id: Id, decision: str = "approve", reason: str = ""
    ) -> Json:
        return self._client.send(core.run_approve(run_id, approval_id, decision, reason))

    def stream(
        self, run_id: Id, *, after: int = 0, max_reconnects: int = core.DEFAULT_RECONNECTS
    ) -> Iterator[RunEvent]:
        """The run's events after seq ``after``, each once and in order, to the terminal one."""
        return self._client.follow(
            run_id, after=after, max_reconnects=max_reconnects, deadline=None
        )

    def wait(self, run_id: Id, timeout: float | None = None) -> Json:
        """The finished run; follows its stream, or polls when the stream keeps failing."""
        deadline = core.deadline_after(timeout)
        try:
            for _ in self._client.follow(
                run_id, after=0, max_reconnects=core.DEFAULT_RECONNECTS, deadline=deadline
            ):
                pass
        except ConnectionFailed:
            return self._poll(run_id, deadline)
        return self.get(run_id)

    def _poll(self, run_id: Id, deadline: float | None) -> Json:
        while not core.is_finished(run := self.get(run_id)):
            time.sleep(core.poll_pause(deadline, run_id))
        return run
