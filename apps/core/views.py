from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from apps.core.exceptions import (
    ConductorError,
    error_json_for_status,
    error_json_response,
    payload_too_large_body,
)
from apps.core.health import collect_health

ENDPOINTS = {
    "api": "/api/",
    "docs": "/api/docs/",
    "schema": "/api/schema/",
    # Streamable HTTP; requests need "Authorization: Bearer <API token>".
    "mcp": "/mcp/",
    "health": "/health",
}


@never_cache
async def health(request: HttpRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        response = error_json_for_status(405)
        response["Allow"] = "GET, HEAD"
        return response
    report = await collect_health()
    body = {
        "status": report["status"],
        "service": "conductor",
        "version": settings.VERSION,
        "endpoints": ENDPOINTS,
        "failing": report["failing"],
        "checks": report["checks"],
    }
    return JsonResponse(body, status=503 if report["status"] == "unavailable" else 200)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(
        ("/api/", "/health")
    ) or "application/json" in request.headers.get("Accept", "")


def _error_view(status_code: int, template: str):
    def view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        if _wants_json(request):
            return error_json_for_status(status_code)
        return render(request, template, status=status_code)

    view.__name__ = f"error_{status_code}"
    return view


_bad_request = _error_view(400, "400.html")
permission_denied = _error_view(403, "403.html")
page_not_found = _error_view(404, "404.html")
_server_error = _error_view(500, "500.html")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django answers a body over its limits (RequestDataTooBig) here, as a 400; it is a 413."""
    if not isinstance(exception, RequestDataTooBig):
        return _bad_request(request, exception)
    if _wants_json(request):
        return JsonResponse(payload_too_large_body(exception), status=413)
    return render(request, "400.html", status=413)


def server_error(request: HttpRequest) -> HttpResponse:
    return _server_error(request)


def service_unavailable(request: HttpRequest, error: ConductorError) -> HttpResponse:
    """The 503 of a plain Django view (the admin, the event streams) that lost a backing service."""
    if _wants_json(request):
        return error_json_response(error.status_code, error.code, error.message)
    return render(request, "503.html", {"message": error.message}, status=error.status_code)
