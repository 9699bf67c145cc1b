from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Conductor core"

    def ready(self) -> None:
        from django.contrib import admin

        from apps.core import roles

        roles.connect(self)

        admin.site.site_header = "Conductor"
        admin.site.site_title = "Conductor"
        admin.site.index_title = "Conductor administration"
