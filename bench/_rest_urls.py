"""Bench-only URLconf: the product's routes plus bare baseline views (bench/rest_throughput.py).

Never part of the product: only bench/_rest_app.py points ROOT_URLCONF here.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, URLResolver, path

from apps.runs.api.serializers import RunSerializer
from apps.runs.models import Run
from apps.screenplays.api import ScreenplaySerializer
from apps.screenplays.models import Screenplay
from conductor_site.urls import (  # noqa: F401 - the error handlers Django looks up here
    handler400,
    handler403,
    handler404,
    handler500,
)
from conductor_site.urls import urlpatterns as product_urlpatterns

SCREENPLAY_FIELDS = list(ScreenplaySerializer.Meta.fields)
_RUN_DERIVED = {"agent", "created_by", "events_url", "offline_demo"}
RUN_FIELDS = [name for name in RunSerializer.Meta.fields if name not in _RUN_DERIVED]


def _page_size(request: HttpRequest) -> int:
    try:
        return max(1, min(200, int(request.GET.get("page_size", 50))))
    except ValueError:
        return 50


async def bare_screenplays(request: HttpRequest) -> JsonResponse:
    """The same rows as GET /api/screenplays/, the plain way: no auth, no DRF, no count."""
    rows = Screenplay.objects.order_by("-updated_at", "-id").values(*SCREENPLAY_FIELDS)
    results: list[dict[str, Any]] = [row async for row in rows[: _page_size(request)]]
    return JsonResponse({"results": results})


async def bare_runs(request: HttpRequest) -> JsonResponse:
    """The same rows as GET /api/runs/ (staff), the plain way."""
    rows = Run.objects.order_by("-created_at").values(
        *RUN_FIELDS, agent_slug=F("agent__slug"), created_by_name=F("created_by__username")
    )
    results: list[dict[str, Any]] = [row async for row in rows[: _page_size(request)]]
    return JsonResponse({"results": results})


urlpatterns: list[URLPattern | URLResolver] = [
    path("bench-bare/screenplays/", bare_screenplays),
    path("bench-bare/runs/", bare_runs),
    *cast(list[URLPattern | URLResolver], product_urlpatterns),
]
