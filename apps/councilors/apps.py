from typing import Any

from django.apps import AppConfig


class CouncilorsConfig(AppConfig):
    name = "apps.councilors"
    label = "councilors"
    verbose_name = "Councilors"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from apps.councilors.models import Councilor
        from apps.runs.signals import run_finished

        run_finished.connect(_run_finished, dispatch_uid="councilors-run-finished")
        # However a councilor goes (demote, or a cascade from its instance), its task goes too.
        post_delete.connect(
            _councilor_deleted, sender=Councilor, dispatch_uid="councilors-drop-periodic-task"
        )


def _run_finished(sender: Any, run: Any, **kwargs: Any) -> None:
    from apps.councilors.services import councilor_run_finished

    councilor_run_finished(run=run)


def _councilor_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from apps.councilors.services import periodic_task_discard

    periodic_task_discard(instance.periodic_task_id)
