from django.apps import AppConfig


class McpClientConfig(AppConfig):
    name = "apps.mcp_client"
    label = "mcp_client"
    verbose_name = "External MCP servers"
