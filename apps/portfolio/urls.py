from django.urls import URLPattern, URLResolver, path

from apps.portfolio.api import PortfolioChatView

urlpatterns: list[URLPattern | URLResolver] = [
    path("portfolio/chat/", PortfolioChatView.as_view(), name="portfolio-chat"),
]
