from django.urls import URLPattern, URLResolver, path

from apps.streams.consumers import CouncilorsConsumer, GamificationConsumer, RunEventsConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/runs/<uuid:run_id>/", RunEventsConsumer.as_asgi()),
    path("ws/gamification/", GamificationConsumer.as_asgi()),
    path("ws/councilors/", CouncilorsConsumer.as_asgi()),
]
