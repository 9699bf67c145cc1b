from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "apps.agents"
    label = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from apps.agents.demo import seed_demo_team
        from apps.agents.tools import ListAgentsTool
        from apps.core.demo import DEMO_SEEDERS
        from apps.runtime.tools import registry

        registry.register(ListAgentsTool())
        if seed_demo_team not in DEMO_SEEDERS:
            DEMO_SEEDERS.append(seed_demo_team)
