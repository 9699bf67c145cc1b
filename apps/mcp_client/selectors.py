from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from apps.mcp_client.models import McpServer, McpServerStatus, McpTransport


class ServerStats(TypedDict):
    total: int
    enabled: int
    disabled: int
    by_status: dict[str, int]
    by_transport: dict[str, int]
    tools: int
    stale: int


def not_seen_since(cutoff: datetime) -> Q:
    """Enabled servers last seen before ``cutoff``; one never seen counts from its registration."""
    seen_before = Q(last_seen_at__lt=cutoff)
    never_seen = Q(last_seen_at__isnull=True, created_at__lt=cutoff)
    return Q(enabled=True) & (seen_before | never_seen)


def stale_cutoff(older_than_s: int | None = None) -> datetime:
    """When a server last seen before is stale: CONDUCTOR_MCP_STALE_SECONDS ago by default."""
    if older_than_s is None:
        older_than_s = settings.CONDUCTOR_MCP_STALE_SECONDS
    return timezone.now() - timedelta(seconds=older_than_s)


def servers_stats() -> ServerStats:
    """Two queries, however many servers: the counts, then the enabled servers' tool lists."""
    cutoff = stale_cutoff()
    counts = McpServer.objects.aggregate(
        # Aliases unlike the fields: an aggregate named "enabled" would shadow the column.
        n_total=Count("pk"),
        n_enabled=Count("pk", filter=Q(enabled=True)),
        n_stale=Count("pk", filter=not_seen_since(cutoff)),
        **{f"status_{s}": Count("pk", filter=Q(status=s)) for s in McpServerStatus.values},
        **{f"transport_{t}": Count("pk", filter=Q(transport=t)) for t in McpTransport.values},
    )
    tool_lists = McpServer.objects.filter(enabled=True).values_list("tools", flat=True)
    return {
        "total": counts["n_total"],
        "enabled": counts["n_enabled"],
        "disabled": counts["n_total"] - counts["n_enabled"],
        "by_status": {s: counts[f"status_{s}"] for s in McpServerStatus.values},
        "by_transport": {t: counts[f"transport_{t}"] for t in McpTransport.values},
        "tools": sum(len(tools) for tools in tool_lists if isinstance(tools, list)),
        "stale": counts["n_stale"],
    }
