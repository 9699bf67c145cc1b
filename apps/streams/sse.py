"""Server-sent events for one run: replay from the log, then live, no gap, no duplicate.

The ordering and catch-up rules live in :mod:`apps.streams.follow`; this module speaks
HTTP: who may watch, where to resume, and the ``text/event-stream`` framing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from apps.core.exceptions import error_json_for_status, error_json_response
from apps.runs.models import Run
from apps.runs.selectors import runs_visible_to
from apps.streams.asgi import long_lived
from apps.streams.follow import Envelope, follow_run

RETRY_MILLISECONDS = 3000
RESUME_SOURCES = (("Last-Event-ID", "header"), ("after", "query"))

User = AbstractBaseUser | AnonymousUser


class BadResumePoint(ValueError):
    pass


@long_lived
@csrf_exempt  # read-only: other methods get a 405 envelope rather than a CSRF page
async def run_events(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        return error_json_for_status(405)
    user = await signed_in_user(request)
    if isinstance(user, HttpResponse):
        return user
    run = await visible_run(user, pk)
    if run is None:
        return error_json_for_status(404)
    try:
        after = _resume_point(request)
    except BadResumePoint as exc:
        return error_json_response(400, "validation_error", "Invalid input.", exc.args[0])
    if request.method == "HEAD":
        return with_stream_headers(HttpResponse(content_type="text/event-stream"))
    stream = _event_stream(run.pk, after)
    return with_stream_headers(StreamingHttpResponse(stream, content_type="text/event-stream"))


# --- The request ----------------------------------------------------------------


async def _stream_user(request: HttpRequest) -> User:
    """The token user when an ``Authorization: Token`` header is sent, else the session's."""
    header = request.headers.get("Authorization", "").split()
    if header and header[0].lower() == "token":
        if len(header) != 2:
            raise AuthenticationFailed("Invalid token header.")
        authenticate = database_sync_to_async(TokenAuthentication().authenticate_credentials)
        user, _ = await authenticate(header[1])
        return user
    return await request.auser()


async def signed_in_user(request: HttpRequest) -> AbstractBaseUser | HttpResponse:
    """The stream's user (token or session), else the 401 to answer with."""
    try:
        user = await _stream_user(request)
    except AuthenticationFailed as exc:
        return _unauthorized(error_json_response(401, "authentication_failed", str(exc.detail)))
    if not user.is_authenticated:
        return _unauthorized(error_json_for_status(401))
    return user


def _unauthorized(response: HttpResponse) -> HttpResponse:
    response["WWW-Authenticate"] = "Token"
    return response


@database_sync_to_async
def visible_run(user: User, pk: uuid.UUID) -> Run | None:
    # Only the key: an open stream keeps this row for as long as it lasts.
    return runs_visible_to(user).filter(pk=pk).select_related(None).only("pk").first()


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


def with_stream_headers(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# --- The stream -----------------------------------------------------------------


async def _event_stream(run_id: uuid.UUID, after: int) -> AsyncIterator[str]:
    keepalive = float(settings.CONDUCTOR_SSE_KEEPALIVE_SECONDS)
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    async for envelope in follow_run(run_id, after, idle_seconds=keepalive):
        yield ": keepalive\n\n" if envelope is None else sse_frame(envelope)


def sse_frame(envelope: Envelope) -> str:
    data = json.dumps(envelope, separators=(",", ":"))
    return f"id: {envelope['id']}\nevent: {envelope['event']}\ndata: {data}\n\n"
