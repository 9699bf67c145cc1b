"""Server-sent events for one run: replay from the log, then live, no gap, no duplicate.

The stream joins the run's channel-layer group before it reads the log, so an event
committed meanwhile is either in the replay or waiting on the channel; a seq already
sent is skipped, and a seq that jumps ahead is filled in from the log first.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apps.core.exceptions import error_json_for_status, error_json_response
from apps.runs import events
from apps.runs.models import Run
from apps.runs.selectors import run_events_after, runs_visible_to
from apps.runs.services import event_envelope

KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 3000
RESUME_SOURCES = (("Last-Event-ID", "header"), ("after", "query"))

Envelope = dict[str, Any]
User = AbstractBaseUser | AnonymousUser


class BadResumePoint(ValueError):
    pass


@csrf_exempt  # read-only: other methods get a 405 envelope rather than a CSRF page
async def run_events(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        return error_json_for_status(405)
    try:
        user = await _authenticated_user(request)
    except AuthenticationFailed as exc:
        return _unauthorized(error_json_response(401, "authentication_failed", str(exc.detail)))
    if not user.is_authenticated:
        return _unauthorized(error_json_for_status(401))
    run = await sync_to_async(_visible_run)(user, pk)
    if run is None:
        return error_json_for_status(404)
    try:
        after = _resume_point(request)
    except BadResumePoint as exc:
        return error_json_response(400, "validation_error", "Invalid input.", exc.args[0])
    if request.method == "HEAD":
        return _with_stream_headers(HttpResponse(content_type="text/event-stream"))
    stream = _event_stream(run, after)
    return _with_stream_headers(StreamingHttpResponse(stream, content_type="text/event-stream"))


# --- The request ----------------------------------------------------------------


async def _authenticated_user(request: HttpRequest) -> User:
    """The token user when an ``Authorization: Token`` header is sent, else the session's."""
    header = request.headers.get("Authorization", "").split()
    if header and header[0].lower() == "token":
        if len(header) != 2:
            raise AuthenticationFailed("Invalid token header.")
        user, _ = await sync_to_async(TokenAuthentication().authenticate_credentials)(header[1])
        return user
    return await request.auser()


def _unauthorized(response: HttpResponse) -> HttpResponse:
    response["WWW-Authenticate"] = "Token"
    return response


def _visible_run(user: User, pk: uuid.UUID) -> Run | None:
    return runs_visible_to(user).filter(pk=pk).first()


def _resume_point(request: HttpRequest) -> int:
    """The last seq the client has: the ``Last-Event-ID`` header wins over ``?after=``."""
    values = {"header": request.headers.get("Last-Event-ID"), "query": request.GET.get("after")}
    for name, source in RESUME_SOURCES:
        value = values[source]
        if value is None:
            continue
        if not (value.isascii() and value.isdigit()):
            raise BadResumePoint({name: ["Must be a non-negative integer."]})
        return int(value)
    return 0


def _with_stream_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# --- The stream -----------------------------------------------------------------


async def _after_join() -> None:
    """Runs between joining the group and reading the log; tests widen that window."""


async def _event_stream(run: Run, after: int) -> AsyncIterator[str]:
    layer = get_channel_layer()
    assert layer is not None, "CHANNEL_LAYERS must be configured for streams"
    group = events.run_group(run.pk)
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        async for frame in _replay_then_live(layer, channel, run, after):
            yield frame
    finally:
        # Also on CancelledError/GeneratorExit when the client goes away.
        await layer.group_discard(group, channel)


async def _replay_then_live(
    layer: BaseChannelLayer, channel: str, run: Run, after: int
) -> AsyncIterator[str]:
    await _after_join()
    finished, replay = await sync_to_async(_log_snapshot)(run, after)
    cursor = _Cursor(after)
    for envelope in replay:
        yield cursor.frame(envelope)
    if cursor.closed or finished:
        return
    async for frame in _live(layer, channel, run, cursor):
        yield frame


async def _live(
    layer: BaseChannelLayer, channel: str, run: Run, cursor: _Cursor
) -> AsyncIterator[str]:
    keepalive = float(getattr(settings, "CONDUCTOR_SSE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS))
    while not cursor.closed:
        try:
            message = await asyncio.wait_for(layer.receive(channel), timeout=keepalive)
        except TimeoutError:
            yield ": keepalive\n\n"
            continue
        envelope = _envelope_of(message)
        if envelope is None or envelope["id"] <= cursor.last:
            continue
        if envelope["id"] > cursor.last + 1:
            for missing in await sync_to_async(_log_between)(run, cursor.last, envelope["id"]):
                yield cursor.frame(missing)
        if not cursor.closed:
            yield cursor.frame(envelope)


class _Cursor:
    """The last seq sent, and whether the terminal event has gone out."""

    def __init__(self, last: int) -> None:
        self.last = last
        self.closed = False

    def frame(self, envelope: Envelope) -> str:
        self.last = envelope["id"]
        self.closed = envelope["event"] in events.TERMINAL_EVENTS
        return sse_frame(envelope)


def sse_frame(envelope: Envelope) -> str:
    data = json.dumps(envelope, separators=(",", ":"))
    return f"id: {envelope['id']}\nevent: {envelope['event']}\ndata: {data}\n\n"


def _envelope_of(message: dict[str, Any]) -> Envelope | None:
    if message.get("type") != events.LAYER_MESSAGE_TYPE:
        return None
    envelope = message.get("envelope")
    return envelope if isinstance(envelope, dict) else None


def _log_snapshot(run: Run, after: int) -> tuple[bool, list[Envelope]]:
    """Whether the run had finished, then the log after ``after``: read in that order,
    a finished run's replay holds its last event."""
    finished = Run.objects.get(pk=run.pk).is_finished
    return finished, [event_envelope(record) for record in run_events_after(run, after)]


def _log_between(run: Run, after: int, before: int) -> list[Envelope]:
    records = run_events_after(run, after).filter(seq__lt=before)
    return [event_envelope(record) for record in records]
