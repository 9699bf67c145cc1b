from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.runs.api.runs import RunViewSet
from apps.runs.catalog_api import ModelCatalogView, ModelSelectView

router = SimpleRouter()
router.register("runs", RunViewSet, basename="run")

urlpatterns = [
    path("models/", ModelCatalogView.as_view(), name="model-catalog"),
    path("models/select/", ModelSelectView.as_view(), name="model-select"),
    *router.urls,
]
