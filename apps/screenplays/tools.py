"""Internal tools that read screenplays."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult
from apps.screenplays.models import Screenplay
from apps.screenplays.selectors import screenplay_search

CONTENT_MAX_CHARS = 20_000


def _summary(screenplay: Screenplay) -> dict[str, Any]:
    return {
        "id": screenplay.pk,
        "name": screenplay.name,
        "description": screenplay.description,
        "tags": screenplay.tags,
        "working_directory": screenplay.working_directory,
        "version": screenplay.version,
    }


class GetScreenplayTool(BaseTool):
    definition = ToolDefinition(
        name="get_screenplay",
        description="Reads one screenplay (a project document) by id or by exact name.",
        parameters={
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string", "maxLength": 200}},
            "minProperties": 1,
            "additionalProperties": False,
        },
        category=ToolCategory.CONDUCTOR,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        screenplay = await sync_to_async(self._find)(arguments)
        if screenplay is None:
            return ToolResult(success=False, error="No such screenplay.")
        content = screenplay.content[:CONTENT_MAX_CHARS]
        return ToolResult(success=True, result={**_summary(screenplay), "content": content})

    @staticmethod
    def _find(arguments: dict[str, Any]) -> Screenplay | None:
        lookup = {"pk": arguments["id"]} if "id" in arguments else {"name": arguments["name"]}
        return Screenplay.objects.filter(**lookup).first()


class SearchScreenplaysTool(BaseTool):
    definition = ToolDefinition(
        name="search_screenplays",
        description="Full-text search over screenplays' names, descriptions and content.",
        parameters={
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 500},
                "limit": {"type": "integer", "minimum": 1, "maximum": 20},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        category=ToolCategory.CONDUCTOR,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        found = await sync_to_async(self._search)(arguments["query"], arguments.get("limit", 5))
        return ToolResult(success=True, result=found)

    @staticmethod
    def _search(query: str, limit: int) -> list[dict[str, Any]]:
        matches = screenplay_search(queryset=Screenplay.objects.all(), query=query)[:limit]
        return [_summary(screenplay) for screenplay in matches]
