from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "apps.portfolio"
    label = "portfolio"
    verbose_name = "Portfolio chat"

    def ready(self) -> None:
        from apps.portfolio import checks  # noqa: F401 - registers the system checks
