"""What the sync and async clients share: requests as data, decoding, errors, retries.

Each client only sends a :class:`Call` and sleeps where a policy here says so; every
decision (what to send, what an answer means, whether and when to retry or reconnect)
is made here, once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from conductor_client.errors import (
    ConductorError,
    ConnectionFailed,
    StreamGap,
    WaitTimeout,
    error_from_response,
    retry_after_seconds,
)
from conductor_client.events import TERMINAL_STATUSES

Id = str | int
Json = dict[str, Any]

PAGE_SIZE = 100
MAX_RETRY_SLEEP = 60.0
MAX_RECONNECT_SLEEP = 5.0
POLL_SECONDS = 1.0
DEFAULT_RECONNECTS = 10


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Json | None = None

    def send_kwargs(self) -> dict[str, Any]:
        return {"params": self.params or None, "json": self.json}


def client_options(
    base_url: str, token: str | None, timeout: float, transport: Any
) -> dict[str, Any]:
    headers = {"Accept": "application/json", "User-Agent": "conductor-client"}
    if token:
        headers["Authorization"] = f"Token {token}"
    return {
        "base_url": base_url.rstrip("/") + "/",
        "headers": headers,
        "timeout": timeout,
        "transport": transport,
    }


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# --- Endpoints ------------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    """A DRF model viewset under ``/api/<name>/``."""

    name: str

    def path(self, item: Id | None = None, action: str = "") -> str:
        parts = ["api", self.name, *([str(item)] if item is not None else []), action]
        return "/".join(part for part in parts if part) + "/"

    def list(self, filters: dict[str, Any]) -> Call:
        return Call("GET", self.path(), params=_without_none(filters))

    def get(self, item: Id) -> Call:
        return Call("GET", self.path(item))

    def create(self, fields: Json) -> Call:
        return Call("POST", self.path(), json=fields)

    def update(self, item: Id, fields: Json) -> Call:
        return Call("PATCH", self.path(item), json=fields)

    def delete(self, item: Id) -> Call:
        return Call("DELETE", self.path(item))


RUNS = Collection("runs")
ME = Call("GET", "api/me/")


def run_create(agent: str, input: str, options: dict[str, Any]) -> Call:
    return RUNS.create({"agent": agent, "input": input, **_without_none(options)})


def run_list(status: str | None, filters: dict[str, Any]) -> Call:
    return RUNS.list({"status": status, **filters})


def run_cancel(run_id: Id) -> Call:
    return Call("POST", RUNS.path(run_id, "cancel"))


def run_approve(run_id: Id, approval_id: Id, decision: str, reason: str) -> Call:
    path = RUNS.path(run_id, f"approvals/{approval_id}")
    return Call("POST", path, json={"decision": decision, "reason": reason})


def run_events_path(run_id: Id) -> str:
    return RUNS.path(run_id, "events")


def is_finished(run: Json) -> bool:
    return run.get("status") in TERMINAL_STATUSES


# --- Answers --------------------------------------------------------------------


def decode(response: httpx.Response) -> Any:
    """The JSON body of a success; an error status raises its typed APIError."""
    if response.is_error:
        raise error_from_response(response)
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        where = f"{response.request.method} {response.request.url}"
        raise ConductorError(f"{where} answered {response.status_code} without JSON") from exc


def connection_failed(url: httpx.URL | str, exc: Exception) -> ConnectionFailed:
    return ConnectionFailed(f"could not reach {url}: {exc.__class__.__name__}: {exc}")


def first_page(call: Call) -> Call:
    return replace(call, params={"page_size": PAGE_SIZE, **call.params})


def page_items(body: Any) -> tuple[list[Json], str | None]:
    """A page's results and its ``next`` link (an unpaginated list is one page)."""
    if isinstance(body, list):
        return body, None
    return list(body["results"]), body.get("next")


def next_page(call: Call, next_url: str | None) -> Call | None:
    """The same path with ``next``'s query: a proxy's idea of the host is not trusted."""
    if not next_url:
        return None
    return replace(call, params=dict(httpx.URL(next_url).params))


class Pages:
    """Collects items across pages, up to an optional limit."""

    def __init__(self, call: Call, limit: int | None) -> None:
        self.call: Call | None = first_page(call)
        self.limit = limit
        self.items: list[Json] = []

    def add(self, call: Call, body: Any) -> None:
        results, next_url = page_items(body)
        self.items.extend(results)
        self.call = next_page(call, next_url)
        if self.limit is not None and len(self.items) >= self.limit:
            self.items = self.items[: self.limit]
            self.call = None


# --- Retries and reconnects -----------------------------------------------------


def backoff(attempt: int, base: float = 0.5, cap: float = 8.0) -> float:
    return min(base * 2**attempt, cap)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries a 429 (after Retry-After) on any method, and a GET whose connection failed.

    Nothing else is retried: a POST that got a 5xx may have taken effect.
    """

    max_retries: int
    max_sleep: float = MAX_RETRY_SLEEP

    def after_response(self, response: httpx.Response, attempt: int) -> float | None:
        if response.status_code != 429 or attempt >= self.max_retries:
            return None
        wait = retry_after_seconds(response)
        return min(backoff(attempt) if wait is None else wait, self.max_sleep)

    def after_error(self, call: Call, attempt: int) -> float | None:
        if call.method != "GET" or attempt >= self.max_retries:
            return None
        return backoff(attempt)


class Reconnects:
    """The reconnect budget of one stream: consecutive failures, a deadline, seq jumps."""

    def __init__(self, url: str, limit: int, deadline: float | None) -> None:
        self.url = url
        self.limit = limit
        self.deadline = deadline
        self.failures = 0
        self.jumped_after: int | None = None

    def delivered(self) -> None:
        self.failures = 0
        self.check_deadline()

    def failed(self, cause: BaseException | None) -> float:
        """The pause before reconnecting; raises once the budget is spent."""
        self.check_deadline()
        self.failures += 1
        if self.failures > self.limit:
            reason = f": {cause.__class__.__name__}: {cause}" if cause else ""
            raise ConnectionFailed(
                f"the event stream {self.url} dropped {self.failures} times in a row{reason}"
            ) from cause
        return self._bounded(backoff(self.failures - 1, base=0.2, cap=MAX_RECONNECT_SLEEP))

    def refused(self, response: httpx.Response) -> float:
        """An error status on connecting: 429 and 5xx wait and retry, the rest raise."""
        error = error_from_response(response)
        if response.status_code == 429:
            return max(self.failed(error), self._bounded(min(retry_after(error), MAX_RETRY_SLEEP)))
        if response.status_code >= 500:
            return self.failed(error)
        raise error

    def jumped(self, last: int, cause: Exception) -> float:
        """A live seq jump: resume from the log once; the same jump twice is a server bug."""
        if self.jumped_after == last:
            raise StreamGap(f"the event stream {self.url} skips events after {last}: {cause}")
        self.jumped_after = last
        return self.failed(cause)

    def read_timeout(self, timeout: float) -> httpx.Timeout:
        remaining = self.remaining()
        read = timeout if remaining is None else max(0.01, min(timeout, remaining))
        return httpx.Timeout(timeout, read=read)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check_deadline(self) -> None:
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise WaitTimeout(f"gave up waiting on {self.url}: the deadline passed")

    def _bounded(self, seconds: float) -> float:
        remaining = self.remaining()
        return seconds if remaining is None else max(0.0, min(seconds, remaining))


def retry_after(error: Exception) -> float:
    seconds = getattr(error, "retry_after", None)
    return 1.0 if seconds is None else float(seconds)


def deadline_after(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def poll_pause(deadline: float | None, run_id: Id) -> float:
    """How long to sleep before polling the run again; raises WaitTimeout when it is late."""
    if deadline is None:
        return POLL_SECONDS
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise WaitTimeout(f"run {run_id} did not finish in time")
    return min(POLL_SECONDS, remaining)


class StreamRefused(Exception):
    """The stream answered an error status; :meth:`Reconnects.refused` decides what follows."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response
