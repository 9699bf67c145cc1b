from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from apps.instances.api import AgentInstanceViewSet

router = SimpleRouter()
router.register("instances", AgentInstanceViewSet, basename="instance")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
