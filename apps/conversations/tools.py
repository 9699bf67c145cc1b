"""Internal tools that read conversations."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from apps.conversations.selectors import conversation_history, conversations_visible_to
from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult


class GetConversationHistoryTool(BaseTool):
    definition = ToolDefinition(
        name="get_conversation_history",
        description=(
            "Reads the newest messages of a conversation (the run's own by default), oldest first."
        ),
        parameters={
            "type": "object",
            "properties": {
                "conversation_id": {"type": "integer"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            },
            "additionalProperties": False,
        },
        category=ToolCategory.CONDUCTOR,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        return await sync_to_async(self._read)(arguments, context)

    @staticmethod
    def _read(arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        from apps.runs.models import Run

        conversation_id = arguments.get("conversation_id")
        if conversation_id is None:
            run = Run.objects.filter(pk=context.run_id).only("conversation_id").first()
            conversation_id = run.conversation_id if run else None
        if conversation_id is None:
            return ToolResult(success=False, error="This run has no conversation; name one.")
        user_model = get_user_model()
        user = user_model.objects.filter(pk=context.user_id).first() if context.user_id else None
        # The run acts for its user: it reads only what that user may read.
        if not conversations_visible_to(user).filter(pk=conversation_id).exists():
            return ToolResult(success=False, error=f"No conversation {conversation_id}.")
        limit = arguments.get("limit", 20)
        return ToolResult(
            success=True, result=conversation_history(conversation_id=conversation_id, limit=limit)
        )
