from django.urls import path

from apps.core.api import ApiRootView, MeView, ObtainTokenView

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("me/", MeView.as_view(), name="me"),
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
]
