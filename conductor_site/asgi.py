import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")

import django

# Django must be set up before anything imports models (as get_asgi_application() does).
django.setup(set_prefix=False)

from apps.streams.asgi import StreamsASGIHandler  # noqa: E402

# Django's handler, except that open event streams do not hold a thread each.
django_asgi_app = StreamsASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.core.websocket import websocket_stack  # noqa: E402
from apps.mcp.http import McpApp, McpMount  # noqa: E402
from conductor_site.routing import websocket_urlpatterns  # noqa: E402

# The MCP server's streamable HTTP endpoint (/mcp/) bypasses Django: the SDK serves it.
mcp_app = McpApp()

application = ProtocolTypeRouter(
    {
        "http": McpMount(django_asgi_app, mcp_app),
        "websocket": websocket_stack(URLRouter(websocket_urlpatterns)),
        # Only the MCP endpoint has anything to start; daphne sends no lifespan events,
        # so there the endpoint starts on its first request instead.
        "lifespan": mcp_app,
    }
)
