from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.streams import broadcast


class TaskEventType(models.TextChoices):
    TASK_INPUTTED = broadcast.TASK_INPUTTED
    TASK_SUBMITTED = broadcast.TASK_SUBMITTED
    TASK_PICKED = broadcast.TASK_PICKED
    TASK_STARTED = broadcast.TASK_STARTED
    TASK_COMPLETED = broadcast.TASK_COMPLETED
    TASK_ERROR = broadcast.TASK_ERROR


class TaskEvent(models.Model):
    """One entry of the gamification feed: a run's task event, or one a service posted."""

    type = models.CharField(max_length=32, choices=TaskEventType.choices)
    data = models.JSONField(default=dict, blank=True)
    run = models.ForeignKey(
        "runs.Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task_events",
    )
    councilor = models.BooleanField(
        default=False, help_text="About a councilor's run (or posted with councilor/source)."
    )
    # Who may see it besides staff; empty means every signed-in user. Deleting the user
    # deletes their events rather than making them public.
    audience = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.created_at:%Y-%m-%d %H:%M:%S}"
