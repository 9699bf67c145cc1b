from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.mcp_client import services
from apps.mcp_client.models import McpServer

HEALTH_FIELDS = (
    "status",
    "last_seen_at",
    "last_checked_at",
    "last_error",
    "tool_list",
    "disabled_by_cleanup",
)


@admin.register(McpServer)
class McpServerAdmin(admin.ModelAdmin):
    list_display = ["name", "transport", "enabled", "status", "tool_count", "last_seen_at"]
    list_filter = ["transport", "enabled", "status", "requires_approval", "disabled_by_cleanup"]
    search_fields = ["name", "description", "command", "url"]
    ordering = ["name"]
    readonly_fields = [*HEALTH_FIELDS, "created_by", "created_at", "updated_at"]
    actions = ["check_health", "enable", "disable"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "description",
                    "transport",
                    "enabled",
                    "requires_approval",
                    "timeout_s",
                ]
            },
        ),
        ("stdio", {"fields": ["command", "args", "env"]}),
        ("Streamable HTTP", {"fields": ["url", "headers"]}),
        ("Health", {"fields": HEALTH_FIELDS}),
        ("Bookkeeping", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: McpServer, form: Any, change: bool) -> None:
        changed = form.changed_data if change else ()
        services.server_save(server=obj, actor=request.user, changed=changed)

    def delete_model(self, request: HttpRequest, obj: McpServer) -> None:
        services.server_delete(server=obj, actor=request.user)

    @admin.display(description="Tools")
    def tool_count(self, server: McpServer) -> int:
        return len(server.tools) if isinstance(server.tools, list) else 0

    @admin.display(description="Tools (last successful check)")
    def tool_list(self, server: McpServer) -> SafeString | str:
        tools = [tool for tool in server.tools or [] if isinstance(tool, dict)]
        if not tools:
            return "—"
        rows = ((tool.get("name", "?"), tool.get("description") or "") for tool in tools)
        items = format_html_join("", "<li><code>{}</code> {}</li>", rows)
        return format_html("<ul>{}</ul>", items)

    @admin.action(description="Check health now", permissions=["change"])
    def check_health(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> None:
        checked = services.servers_check(servers=queryset)
        counts = Counter(server.status for server in checked)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        level = messages.WARNING if counts.get("unhealthy") else messages.SUCCESS
        self.message_user(request, f"Checked {len(checked)} server(s): {summary}.", level)
        for server in checked:
            if server.last_error:
                message = f"MCP server {server.name}: {server.last_error}"
                self.message_user(request, message, messages.ERROR)

    @admin.action(description="Enable selected servers", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> None:
        count = services.servers_set_enabled(servers=queryset, enabled=True, actor=request.user)
        self.message_user(request, f"Enabled {count} server(s).", messages.SUCCESS)

    @admin.action(description="Disable selected servers", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[McpServer]) -> None:
        count = services.servers_set_enabled(servers=queryset, enabled=False, actor=request.user)
        self.message_user(request, f"Disabled {count} server(s).", messages.SUCCESS)
