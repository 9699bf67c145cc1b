from __future__ import annotations

from celery import shared_task

from apps.mcp_client import services


@shared_task(name="mcp_client.check_servers", ignore_result=True)
def check_servers() -> dict[str, str]:
    """Beat's health check of every enabled server (CONDUCTOR_MCP_HEALTH_SECONDS)."""
    return services.servers_check_all()
