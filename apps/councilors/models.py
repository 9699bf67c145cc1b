from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apps.core.models import TimeStampedModel
from apps.core.validators import validate_no_control_characters
from apps.councilors import schedules

TASK_PROMPT_MAX_CHARS = 10_000
NOTIFY_CHANNELS = ("panel", "toast")


class ScheduleType(models.TextChoices):
    INTERVAL = schedules.INTERVAL
    CRON = schedules.CRON


class OutputFormat(models.TextChoices):
    SUMMARY = "summary"
    DETAILED = "detailed"
    CHECKLIST = "checklist"


def default_notify_channels() -> list[str]:
    return ["panel"]


def validate_notify_channels(value: object) -> None:
    if (
        not isinstance(value, list)
        or not all(isinstance(item, str) and item in NOTIFY_CHANNELS for item in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            "Must be a list of distinct channels among: panel, toast.", code="invalid_channels"
        )


class Councilor(TimeStampedModel):
    """An agent instance that runs a task prompt on a schedule.

    Its schedule lives in ``periodic_task`` (django-celery-beat), which only
    ``apps.councilors.services`` writes, in the same transaction as the councilor.
    """

    instance = models.OneToOneField(
        "instances.AgentInstance", on_delete=models.CASCADE, related_name="councilor"
    )
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask",
        on_delete=models.PROTECT,
        related_name="councilor",
        editable=False,
    )
    title = models.CharField(max_length=200, validators=[validate_no_control_characters])

    schedule_type = models.CharField(max_length=16, choices=ScheduleType.choices)
    schedule_value = models.CharField(
        max_length=100, help_text="30s, 30m, 1h or 2d for an interval; 5 fields for a cron."
    )
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[schedules.validate_timezone],
        help_text="An IANA name; a cron runs on this zone's wall clock.",
    )
    enabled = models.BooleanField(default=True, db_index=True)

    task_name = models.CharField(max_length=200, validators=[validate_no_control_characters])
    task_prompt = models.TextField(
        validators=[MaxLengthValidator(TASK_PROMPT_MAX_CHARS), validate_no_control_characters]
    )
    context_screenplays = models.ManyToManyField(
        "screenplays.Screenplay", blank=True, related_name="councilors_reading"
    )
    output_format = models.CharField(
        max_length=16, choices=OutputFormat.choices, default=OutputFormat.SUMMARY
    )

    notify_on_success = models.BooleanField(default=False)
    notify_on_warning = models.BooleanField(default=True)
    notify_on_error = models.BooleanField(default=True)
    notify_channels = models.JSONField(
        default=default_notify_channels, blank=True, validators=[validate_notify_channels]
    )

    display_name = models.CharField(
        max_length=100, blank=True, validators=[validate_no_control_characters]
    )
    avatar_url = models.URLField(max_length=500, blank=True)
    color = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour is #rrggbb.", "invalid_color")],
    )

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def name_shown(self) -> str:
        return self.display_name or self.title

    @property
    def schedule(self) -> schedules.Schedule:
        return schedules.parse_schedule(self.schedule_type, self.schedule_value)

    def clean(self) -> None:
        if self.schedule_type in ScheduleType.values:
            schedules.parse_schedule(self.schedule_type, self.schedule_value)


class TickOutcome(models.TextChoices):
    STARTED = "started"
    SKIPPED = "skipped"


class TickTrigger(models.TextChoices):
    SCHEDULE = "schedule"
    MANUAL = "manual"


class SkipReason(models.TextChoices):
    BUSY = "busy", "previous run still going"
    PAUSED = "paused", "councilor paused"
    UNAVAILABLE = "unavailable", "instance deleted or agent inactive"


class CouncilorTick(models.Model):
    """One time a councilor was due: the run it started, or why it was skipped."""

    councilor = models.ForeignKey(Councilor, on_delete=models.CASCADE, related_name="ticks")
    trigger = models.CharField(max_length=16, choices=TickTrigger.choices)
    outcome = models.CharField(max_length=16, choices=TickOutcome.choices, db_index=True)
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="councilor_ticks"
    )
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.councilor} {self.trigger} tick: {self.outcome}"
