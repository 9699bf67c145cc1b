from __future__ import annotations

import factory

from apps.mcp_client.models import McpServer, McpTransport


class McpServerFactory(factory.django.DjangoModelFactory):
    """An HTTP server on a public name: valid without any allow-list setting."""

    class Meta:
        model = McpServer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"server-{n}")
    transport = McpTransport.HTTP
    url = factory.LazyAttribute(lambda server: f"https://{server.name}.example/mcp")
