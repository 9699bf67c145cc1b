from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from apps.personas.api import PersonaVersionViewSet, PersonaViewSet

router = SimpleRouter()
router.register("personas", PersonaViewSet, basename="persona")
router.register(
    r"personas/(?P<persona_pk>[0-9]+)/versions", PersonaVersionViewSet, basename="persona-version"
)

urlpatterns: list[URLPattern | URLResolver] = [*router.urls]
