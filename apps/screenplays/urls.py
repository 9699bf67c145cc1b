from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from apps.screenplays.api import ScreenplayViewSet

router = SimpleRouter()
router.register("screenplays", ScreenplayViewSet, basename="screenplay")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
