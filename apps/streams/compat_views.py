"""The seed gateway's routes (SPEC §4): ``/execute`` and ``/api/v1/stream-execute|stream/``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import error_json_for_status
from apps.core.openapi import error_responses
from apps.runs import services
from apps.runs.models import Run, RunSource
from apps.runs.tasks import execute_run
from apps.streams import compat
from apps.streams.asgi import long_lived
from apps.streams.follow import follow_run
from apps.streams.sse import signed_in_user, visible_run, with_stream_headers

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
        responses={200: compat.ExecuteResponseSerializer, **error_responses(503)},
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
        responses={200: compat.StreamExecuteResponseSerializer, **error_responses(503)},
        tags=["seed-gateway compatibility"],
    )
    def post(self, request: Request) -> Response:
        run = _start(request, enqueue=True)
        return Response(compat.stream_execute_response(run))


# --- The stream ----------------------------------------------------------------


async def _seed_lines(run: Run) -> AsyncIterator[str]:
    async for envelope in follow_run(run.pk, 0, idle_seconds=LOG_POLL_SECONDS):
        event = compat.seed_event(envelope) if envelope is not None else None
        if event is not None:
            yield compat.seed_line(event)
    yield compat.seed_line(compat.end_of_stream(run.pk))


@long_lived
async def job_stream(request: HttpRequest, job_id: str) -> HttpResponseBase:
    """The job's events in the seed's format; closes after ``result`` or ``error``."""
    if request.method != "GET":
        return error_json_for_status(405)
    user = await signed_in_user(request)
    if isinstance(user, HttpResponse):
        return user
    run_id = compat.run_id_from_job(job_id)
    run = await visible_run(user, run_id) if run_id is not None else None
    if run is None:
        return error_json_for_status(404)
    stream = _seed_lines(run)
    return with_stream_headers(StreamingHttpResponse(stream, content_type="text/event-stream"))
