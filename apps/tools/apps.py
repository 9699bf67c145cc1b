from django.apps import AppConfig


class ToolsConfig(AppConfig):
    name = "apps.tools"
    label = "tools"
    verbose_name = "Tools"

    def ready(self) -> None:
        from apps.runtime.plugins import load_configured_plugins
        from apps.runtime.tools import registry
        from apps.tools.code_run import CodeRunTool
        from apps.tools.sql_query import SqlQueryTool
        from apps.tools.web_fetch import WebFetchTool

        for tool in (WebFetchTool, CodeRunTool, SqlQueryTool):
            registry.register(tool(), source="core")
        # After the core tools: a plugin that reuses a core name is the one refused.
        load_configured_plugins()
