"""Internal tools about agents."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from apps.agents.models import Agent
from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult


class ListAgentsTool(BaseTool):
    definition = ToolDefinition(
        name="list_agents",
        description="Lists the active agents: slug, name, description and group.",
        parameters={
            "type": "object",
            "properties": {"group": {"type": "string", "description": "Only this group."}},
            "additionalProperties": False,
        },
        category=ToolCategory.CONDUCTOR,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        return ToolResult(success=True, result=await self._agents(arguments.get("group")))

    @database_sync_to_async
    def _agents(self, group: str | None) -> list[dict[str, Any]]:
        agents = Agent.objects.filter(is_active=True).order_by("slug")
        if group:
            agents = agents.filter(group=group)
        return [dict(row) for row in agents.values("slug", "name", "description", "group")]
