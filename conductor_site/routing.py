"""Every app's WebSocket routes, gathered for the ASGI application."""

from apps.core.routing import websocket_urlpatterns as core_routes
from apps.streams.routing import websocket_urlpatterns as stream_routes

websocket_urlpatterns = [*core_routes, *stream_routes]
