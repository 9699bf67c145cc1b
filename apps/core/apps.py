import sys

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Conductor core"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin

        from apps.core import gc_guard, roles

        # Not inside mypy, whose django-stubs plugin sets Django up and which manages
        # the collector itself.
        if settings.CONDUCTOR_GC_ON_THREAD and "mypy" not in sys.modules:
            gc_guard.install()
        roles.connect(self)

        admin.site.site_header = "Conductor"
        admin.site.site_title = "Conductor"
        admin.site.index_title = "Conductor administration"
