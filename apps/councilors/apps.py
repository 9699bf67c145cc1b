from django.apps import AppConfig


class CouncilorsConfig(AppConfig):
    name = "apps.councilors"
    label = "councilors"
    verbose_name = "Councilors"
