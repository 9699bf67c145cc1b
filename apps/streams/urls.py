"""Live stream routes (SSE) and the seed gateway's compatible routes."""

from django.urls import URLPattern, URLResolver, path

from apps.streams import compat_views, sse

urlpatterns: list[URLPattern | URLResolver] = [
    # --- SSE (apps/streams/sse.py) ---
    path("api/runs/<uuid:pk>/events/", sse.run_events, name="run-events"),
    # --- seed-gateway compatibility (apps/streams/compat_views.py) ---
    path("execute", compat_views.ExecuteView.as_view(), name="compat-execute"),
    path(
        "api/v1/stream-execute",
        compat_views.StreamExecuteView.as_view(),
        name="compat-stream-execute",
    ),
    path("api/v1/stream/<str:job_id>", compat_views.job_stream, name="compat-stream"),
]
