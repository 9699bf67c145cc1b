"""The plugin SDK: everything a Conductor plugin needs, in five names.

A tool subclasses :class:`BaseTool`, declares a :class:`ToolDefinition` (name, description,
JSON-Schema ``parameters``, :class:`ToolCategory`, ``requires_approval``) and answers a
:class:`ToolResult`. Conductor validates the model's arguments against ``parameters`` before
``run`` is called, so ``run`` may trust their shape; invalid ones never reach it::

    from apps.runtime.sdk import BaseTool, PluginRegistry, ToolCategory, ToolDefinition, ToolResult


    class Shout(BaseTool):
        definition = ToolDefinition(
            name="shout",
            description="Upper-cases a text.",
            parameters={
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
                "additionalProperties": False,
            },
            category=ToolCategory.DATA,
        )

        async def run(self, arguments, context):
            return ToolResult(success=True, result=arguments["text"].upper())


    def register(registry: PluginRegistry) -> None:
        registry.register(Shout())

``run`` also receives a ``ToolContext`` (``run_id``, ``user_id``, ``cwd``); import it from
``apps.runtime.tools`` when you want the annotation. Ship the plugin as a package with an entry
point in the ``conductor.plugins`` group (``example = "my_plugin:register"``), or drop the module
or package into a folder listed in ``CONDUCTOR_PLUGIN_DIRS``. Instead of ``register`` a module may
expose ``TOOLS = [Shout]``. Tool names are unique across Conductor and all plugins.
"""

from __future__ import annotations

from apps.runtime.tools import BaseTool, PluginRegistry, ToolCategory, ToolDefinition, ToolResult

__all__ = ["BaseTool", "PluginRegistry", "ToolCategory", "ToolDefinition", "ToolResult"]
