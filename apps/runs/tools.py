"""delegate_to_agent: a run hands a sub-task to another agent and waits for its answer."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from apps.agents.models import Agent
from apps.conversations.models import DEFAULT_MAX_CHAIN_DEPTH
from apps.core.exceptions import ConductorError
from apps.runs.models import Run
from apps.runtime.tools import BaseTool, ToolCategory, ToolContext, ToolDefinition, ToolResult


def _max_depth(parent: Run) -> int:
    conversation = parent.conversation
    return conversation.max_chain_depth if conversation else DEFAULT_MAX_CHAIN_DEPTH


def _delegate(parent: Run, agent: Agent, text: str) -> Run:
    from apps.runs import execution, services

    child = services.run_start(
        request=services.RunRequest(
            agent=agent, input=text, screenplay=parent.screenplay, cwd=parent.cwd
        ),
        actor=parent.created_by,
        source=parent.source,
        parent_run=parent,
        enqueue=False,
    )
    claimed = services.run_claim(str(child.pk))
    # Executed here, in the parent's worker: a delegation never waits on a free worker.
    return execution.execute(claimed) if claimed is not None else child


class DelegateToAgentTool(BaseTool):
    definition = ToolDefinition(
        name="delegate_to_agent",
        description=(
            "Hands a sub-task to another agent and returns its final answer. "
            "Delegations may nest only up to the conversation's max_chain_depth."
        ),
        parameters={
            "type": "object",
            "properties": {
                "agent": {"type": "string", "pattern": "^[A-Za-z0-9_]+$", "maxLength": 64},
                "input": {"type": "string", "minLength": 1, "maxLength": 20_000},
            },
            "required": ["agent", "input"],
            "additionalProperties": False,
        },
        category=ToolCategory.CONDUCTOR,
    )

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        return await sync_to_async(self._run)(arguments, context)

    @staticmethod
    def _run(arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        parent = Run.objects.select_related("conversation", "screenplay", "created_by").get(
            pk=context.run_id
        )
        depth, limit = parent.delegation_depth + 1, _max_depth(parent)
        if depth > limit:
            return ToolResult(
                success=False,
                error=f"delegation depth {depth} would exceed max_chain_depth {limit}",
            )
        agent = Agent.objects.filter(slug=arguments["agent"], is_active=True).first()
        if agent is None:
            return ToolResult(success=False, error=f"No active agent {arguments['agent']!r}.")
        try:
            child = _delegate(parent, agent, arguments["input"])
        except ConductorError as exc:
            return ToolResult(success=False, error=exc.message)
        result = {"run_id": str(child.pk), "agent": agent.slug, "status": child.status}
        if child.status != "succeeded":
            return ToolResult(success=False, result=result, error=child.error or child.status)
        return ToolResult(success=True, result={**result, "answer": child.result})
