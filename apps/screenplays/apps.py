from django.apps import AppConfig


class ScreenplaysConfig(AppConfig):
    name = "apps.screenplays"
    label = "screenplays"
    verbose_name = "Screenplays"
