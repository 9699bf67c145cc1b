from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core import views as core_views

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("apps.core.urls")),
    path("", include("apps.personas.urls")),
    path("", include("apps.screenplays.urls")),
    path("", include("apps.agents.urls")),
    path("", include("apps.instances.urls")),
    path("", include("apps.conversations.urls")),
    path("", include("apps.runs.urls")),
    path("", include("apps.tools.urls")),
    path("", include("apps.councilors.urls")),
    path("", include("apps.activity.urls")),
    path("", include("apps.portfolio.urls")),
    path("", include("apps.mcp_client.urls")),
]

urlpatterns = [
    path("health", core_views.health, name="health"),
    path("", include("apps.streams.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api_urlpatterns)),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
