from __future__ import annotations

from rest_framework import status

from apps.core.exceptions import ConductorError


class McpServerNotFound(ConductorError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "mcp_server_not_found"
    default_message = "No MCP server is registered under this name."
