from django.urls import URLPattern, URLResolver
from rest_framework.routers import SimpleRouter

from apps.councilors.api import CouncilorViewSet

router = SimpleRouter()
router.register("councilors", CouncilorViewSet, basename="councilor")

urlpatterns: list[URLPattern | URLResolver] = list(router.urls)
