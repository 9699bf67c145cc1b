from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "apps.runs"
    label = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        from apps.runs.tools import DelegateToAgentTool
        from apps.runtime.tools import registry

        registry.register(DelegateToAgentTool())
