from django.apps import AppConfig


class ScreenplaysConfig(AppConfig):
    name = "apps.screenplays"
    label = "screenplays"
    verbose_name = "Screenplays"

    def ready(self) -> None:
        from apps.runtime.tools import registry
        from apps.screenplays.tools import GetScreenplayTool, SearchScreenplaysTool

        registry.register(GetScreenplayTool())
        registry.register(SearchScreenplaysTool())
