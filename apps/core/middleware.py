from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from apps.core.context import request_id_var
from apps.core.exceptions import DATABASE_OUTAGE_ERRORS, database_unavailable
from apps.core.views import service_unavailable

REQUEST_ID_HEADER = "X-Request-ID"
# An upstream proxy's id is kept only when it cannot smuggle anything into logs.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _request_id_for(request: HttpRequest) -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id, exposes it to logging and echoes it back.

    The id is set, not reset: Django logs the response (``django.request``)
    after the middleware chain returns, and that line must carry it too. Each
    request sets its own id before anything is logged.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.is_async:
            return self._acall(request)
        request_id = _request_id_for(request)
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id_for(request)
        request_id_var.set(request_id)
        response = await self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class DatabaseOutageMiddleware:
    """Answers 503 instead of 500 when a plain Django view finds the database down.

    DRF views get the same from their exception handler (apps.core.exceptions); this covers
    the rest: the event streams, the admin. Sync only: the ASGI handler builds the chain in
    its sync mode (apps.streams.asgi).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_OUTAGE_ERRORS):
            return None
        return service_unavailable(request, database_unavailable(exception))
