from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from apps.mcp_client.api import McpServerViewSet

router = SimpleRouter()
router.register("mcp-servers", McpServerViewSet, basename="mcp-server")

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
