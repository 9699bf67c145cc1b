from __future__ import annotations

import logging

from celery import shared_task

from apps.councilors import services
from apps.councilors.models import Councilor

logger = logging.getLogger(__name__)


@shared_task(name=services.TICK_TASK, ignore_result=True)
def councilor_tick(councilor_id: int) -> None:
    """Beat's call: start the councilor's run, or record why this tick was skipped."""
    try:
        services.councilor_execute(councilor_id=councilor_id)
    except Councilor.DoesNotExist:
        # Demoted after beat sent the tick: its PeriodicTask is gone, nothing to do.
        logger.info("councilor %s no longer exists; tick dropped", councilor_id)
