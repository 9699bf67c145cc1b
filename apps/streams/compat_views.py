"""The seed gateway's routes (SPEC §4): ``/execute`` and ``/api/v1/stream-execute|stream/``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import error_json_for_status
from apps.runs import events, selectors, services
from apps.runs.models import Run, RunSource
from apps.runs.tasks import execute_run
from apps.streams import compat

# How long the stream waits on the channel layer before re-reading the log: a
# publish that failed (the log is the source of truth) is delivered late, not lost.
LOG_POLL_SECONDS = 2.0


def _start(request: Request, *, enqueue: bool) -> Run:
    serializer = compat.CompatRunSerializer(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    agent = serializer.validated_data["resolved_agent"]
    return services.run_start(
        request=serializer.run_request(agent),
        actor=request.user,
        source=RunSource.API,
        enqueue=enqueue,
    )


class ExecuteView(APIView):
    """Runs the job inside the request and answers with its outcome (200 even when it failed)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=compat.CompatRunSerializer,
        responses=compat.ExecuteResponseSerializer,
        tags=["seed-gateway compatibility"],
    )
    def post(self, request: Request) -> Response:
        run = _start(request, enqueue=False)
        # The task body, called directly: claimed and executed here, under a heartbeat.
        execute_run(str(run.pk))
        run.refresh_from_db()
        return Response(compat.execute_response(run))


class StreamExecuteView(APIView):
    """Queues the job; its events stream from ``stream_url``."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=compat.CompatRunSerializer,
        responses=compat.StreamExecuteResponseSerializer,
        tags=["seed-gateway compatibility"],
    )
    def post(self, request: Request) -> Response:
        run = _start(request, enqueue=True)
        return Response(compat.stream_execute_response(run))


# --- The stream ----------------------------------------------------------------


async def _user(request: HttpRequest) -> Any:
    """The session user, else the owner of an ``Authorization: Token <key>`` header."""
    user = await request.auser()
    if user.is_authenticated:
        return user
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "token" or not key.strip():
        return None
    token = await Token.objects.select_related("user").filter(key=key.strip()).afirst()
    return token.user if token is not None and token.user.is_active else None


async def _visible_run(user: Any, job: str) -> Run | None:
    run_id = compat.run_id_from_job(job)
    if run_id is None:
        return None
    return await selectors.runs_visible_to(user).filter(pk=run_id).afirst()


async def _logged_after(run: Run, seq: int) -> list[dict[str, Any]]:
    return [services.event_envelope(e) async for e in selectors.run_events_after(run, seq)]


async def _next_live(layer: BaseChannelLayer, channel: str) -> dict[str, Any] | None:
    try:
        message = await asyncio.wait_for(layer.receive(channel), timeout=LOG_POLL_SECONDS)
    except TimeoutError:
        return None
    return message.get("envelope")


async def _follow(run: Run, layer: BaseChannelLayer, channel: str) -> AsyncIterator[dict[str, Any]]:
    """The log from the start, then live envelopes; each seq once, in order, up to the end."""
    last, replay = 0, True
    while True:
        if replay:
            for envelope in await _logged_after(run, last):
                last = envelope["id"]
                yield envelope
                if envelope["event"] in events.TERMINAL_EVENTS:
                    return
        live = await _next_live(layer, channel)
        # A quiet spell or a gap: the log has whatever the layer did not deliver.
        replay = live is None or live["id"] > last + 1
        if replay or live is None or live["id"] <= last:
            continue
        last = live["id"]
        yield live
        if live["event"] in events.TERMINAL_EVENTS:
            return


async def _envelopes(run: Run) -> AsyncIterator[dict[str, Any]]:
    layer = get_channel_layer()
    assert layer is not None, "CHANNEL_LAYERS is always configured (settings.py)"
    channel = await layer.new_channel()
    group = events.run_group(run.pk)
    # Joined before the log is read: nothing published in between is missed.
    await layer.group_add(group, channel)
    try:
        async for envelope in _follow(run, layer, channel):
            yield envelope
    finally:
        await layer.group_discard(group, channel)


async def _seed_lines(run: Run) -> AsyncIterator[str]:
    async for envelope in _envelopes(run):
        event = compat.seed_event(envelope)
        if event is not None:
            yield compat.seed_line(event)
    yield compat.seed_line(compat.end_of_stream(run.pk))


async def job_stream(request: HttpRequest, job_id: str) -> HttpResponseBase:
    """The job's events in the seed's format; closes after ``result`` or ``error``."""
    if request.method != "GET":
        return error_json_for_status(405)
    user = await _user(request)
    if user is None:
        unauthorized = error_json_for_status(401)
        unauthorized["WWW-Authenticate"] = "Token"
        return unauthorized
    run = await _visible_run(user, job_id)
    if run is None:
        return error_json_for_status(404)
    response = StreamingHttpResponse(_seed_lines(run), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
