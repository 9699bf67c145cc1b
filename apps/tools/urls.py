from django.urls import URLPattern, URLResolver, path

from apps.tools.api import ToolListView

urlpatterns: list[URLPattern | URLResolver] = [
    path("tools/", ToolListView.as_view(), name="tool-list"),
]
